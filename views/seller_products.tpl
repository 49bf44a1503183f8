% rebase('base.tpl')
% labels = {'pending': 'Waiting for review', 'approved': 'On sale', 'rejected': 'Not approved'}
% thumb_labels = {'none': 'No cover', 'processing': 'Processing…', 'ready': 'Ready', 'failed': 'Failed'}
<section class="page-head toolbar">
  <div>
    <h1>My products</h1>
    % on_sale = sum(1 for p in products if p.status == 'approved')
    % waiting = sum(1 for p in products if p.status == 'pending')
    <p class="muted">{{len(products)}} product{{'' if len(products) == 1 else 's'}} · {{on_sale}} on sale · {{waiting}} waiting for review</p>
  </div>
  <a class="button" href="/seller/products/new">+ New product</a>
</section>
% if not products:
<div class="empty">
  <p>You have no products yet. Upload your first one: a file buyers download, a cover image and a price.</p>
  <p><a class="button" href="/seller/products/new">Add a product</a></p>
</div>
% else:
<div class="table-wrap">
<table class="list responsive seller-products">
  <thead>
    <tr><th>Product</th><th>Status</th><th>Cover</th><th class="num">Price</th><th>Updated</th><th><span class="visually-hidden">Actions</span></th></tr>
  </thead>
  <tbody>
  % for p in products:
    <tr>
      <td data-label="Product">
        <div class="product-cell">
          % thumb = p.thumbnail_url(160)
          % if thumb:
          <img class="row-thumb" src="{{thumb}}" alt="" width="64" height="48">
          % else:
          <span class="row-thumb row-thumb-placeholder" aria-hidden="true">{{p.title[:1].upper()}}</span>
          % end
          <div>
            <a class="row-title" href="/seller/products/{{p.id}}/edit">{{p.title}}</a>
            <div class="muted small">{{p.file_name or 'No file'}} · {{filesize(p.file_size)}}</div>
            % if p.status == 'rejected' and p.rejection_reason:
            <p class="reason"><strong>Reason:</strong> {{p.rejection_reason}}</p>
            % end
          </div>
        </div>
      </td>
      <td data-label="Status"><span class="badge badge-{{p.status}}">{{labels.get(p.status, p.status)}}</span></td>
      <td data-label="Cover">
        <span class="badge badge-{{p.thumbnail_state}}">{{thumb_labels.get(p.thumbnail_state, p.thumbnail_state)}}</span>
        % if p.thumbnail_state == 'failed' and p.thumbnail_error:
        <p class="reason">{{p.thumbnail_error}}</p>
        % end
      </td>
      <td class="num" data-label="Price">{{money(p.price, p.currency)}}</td>
      <td data-label="Updated" class="nowrap">{{p.updated_at.strftime('%d %b %Y')}}</td>
      <td class="actions-cell">
        <a class="button button-small button-secondary" href="/seller/products/{{p.id}}/edit">Edit</a>
        % if p.status == 'approved':
        <a class="button button-small button-secondary" href="/products/{{p.slug}}">View</a>
        % end
        <a class="button button-small button-secondary" href="/seller/products/{{p.id}}/file">File</a>
      </td>
    </tr>
  % end
  </tbody>
</table>
</div>
% end
