% rebase('base.tpl')
<section class="panel narrow">
  <h1>Create an account</h1>
  <form method="post" action="/register" class="stack">
    <input type="hidden" name="csrf_token" value="{{csrf_token}}">
    % include('_field.tpl', name='name', label='Your name', value=form.get('name'), required=True, attrs='autocomplete="name" maxlength="100"')
    % include('_field.tpl', name='email', label='Email', type='email', value=form.get('email'), required=True, attrs='autocomplete="email"')
    % include('_field.tpl', name='password', label='Password', type='password', value='', required=True, hint='At least 8 characters.', attrs='autocomplete="new-password" minlength="8"')
    <fieldset class="field{{' has-error' if errors.get('role') else ''}}">
      <legend>I want to</legend>
      <label class="choice"><input type="radio" name="role" value="customer"{{!' checked' if form.get('role', 'customer') == 'customer' else ''}}> Buy digital products</label>
      <label class="choice"><input type="radio" name="role" value="seller"{{!' checked' if form.get('role') == 'seller' else ''}}> Sell my digital products</label>
      % if errors.get('role'):
      <p class="field-error">{{errors['role']}}</p>
      % end
    </fieldset>
    <button class="button" type="submit">Create account</button>
  </form>
  <p class="muted">Already have an account? <a href="/login">Log in</a>.</p>
</section>
