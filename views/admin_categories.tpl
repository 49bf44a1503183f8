% rebase('base.tpl')
<section class="panel">
  <h1>Categories</h1>
  <p class="muted">The catalog's shelves. Sellers put each product on one; customers filter by them. A rename keeps the category's web address, so shared links keep working.</p>
  <form method="post" action="/admin/categories" class="stack">
    <input type="hidden" name="csrf_token" value="{{csrf_token}}">
    % include('_field.tpl', name='name', label='New category', value=form.get('name'), errors={} if failed_id else errors, required=True, attrs='maxlength="60"')
    <div class="form-actions"><button class="button" type="submit">Add category</button></div>
  </form>
  % if categories:
  <table class="table">
    <thead><tr><th>Name</th><th>Address</th><th></th></tr></thead>
    <tbody>
    % for category in categories:
      <tr>
        <td data-label="Name">
          <form method="post" action="/admin/categories/{{category.id}}/rename" class="inline-form">
            <input type="hidden" name="csrf_token" value="{{csrf_token}}">
            <input name="name" value="{{category.name}}" maxlength="60" aria-label="Name of {{category.name}}" required>
            <button class="button button-secondary" type="submit">Rename</button>
            % if failed_id == category.id and errors.get('name'):
            <p class="field-error">{{errors['name']}}</p>
            % end
          </form>
        </td>
        <td data-label="Address"><a href="/?category={{category.slug}}">/?category={{category.slug}}</a></td>
        <td>
          <form method="post" action="/admin/categories/{{category.id}}/delete">
            <input type="hidden" name="csrf_token" value="{{csrf_token}}">
            <button class="button button-secondary" type="submit">Remove</button>
          </form>
        </td>
      </tr>
    % end
    </tbody>
  </table>
  % end
</section>
