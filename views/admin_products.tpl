% rebase('base.tpl')
% tab_labels = {'pending': 'Pending', 'approved': 'Approved', 'rejected': 'Rejected'}
% thumb_labels = {'none': 'No cover', 'processing': 'Cover processing…', 'ready': 'Cover ready', 'failed': 'Cover failed'}
<section class="page-head">
  <h1>Moderation</h1>
  <p class="muted">Check each product before it goes on sale: the cover, the description, the price and the file itself. The seller is notified of every decision by email and in their notifications.</p>
</section>
<nav class="tabs" aria-label="Products by status">
  % for name in tabs:
  <a href="/admin/products{{'' if name == 'pending' else '?status=' + name}}"{{!' aria-current="page" class="active"' if name == tab else ''}}>{{tab_labels[name]}} <span class="badge">{{counts.get(name, 0)}}</span></a>
  % end
</nav>
% if not products:
<div class="empty">
  <p>{{'Nothing is waiting for review. New products appear here as sellers submit them.' if tab == 'pending' else 'No products here yet.'}}</p>
</div>
% end
% for p in products:
<article class="panel review-card" id="product-{{p.id}}">
  <div class="review-media">
    % thumb = p.thumbnail_url(480)
    % if thumb:
    <img class="thumb" src="{{thumb}}" alt="Cover of {{p.title}}" width="480" height="360">
    % else:
    <div class="thumb thumb-placeholder" aria-hidden="true"><span>{{p.title[:1].upper()}}</span></div>
    % end
    <p class="small center"><span class="badge badge-{{p.thumbnail_state}}">{{thumb_labels.get(p.thumbnail_state, p.thumbnail_state)}}</span></p>
    % if p.thumbnail_state == 'failed' and p.thumbnail_error:
    <p class="reason small">{{p.thumbnail_error}}</p>
    % end
  </div>
  <div class="review-body">
    <h2 class="review-title">{{p.title}}</h2>
    <p class="muted small">by <strong>{{p.seller.name}}</strong> &lt;{{p.seller.email}}&gt; · {{'submitted' if tab == 'pending' else 'updated'}} {{p.updated_at.strftime('%d %b %Y, %H:%M')}} UTC</p>
    <p class="price">{{money(p.price, p.currency)}}</p>
    <div class="description review-description">
      % for paragraph in p.description.split('\n\n')[:4]:
      <p>{{paragraph}}</p>
      % end
    </div>
    <dl class="kv small">
      <dt>File</dt>
      <dd><a href="/admin/products/{{p.id}}/file">{{p.file_name or 'download'}}</a> · {{filesize(p.file_size)}}</dd>
      <dt>SHA-256</dt>
      <dd><code class="hash">{{(p.file_sha256 or '')[:16]}}…</code></dd>
      % if p.status == 'rejected' and p.rejection_reason:
      <dt>Reason</dt>
      <dd class="reason">{{p.rejection_reason}}</dd>
      % end
    </dl>
    % if p.status == 'pending':
    <div class="review-actions">
      <form method="post" action="/admin/products/{{p.id}}/approve">
        <input type="hidden" name="csrf_token" value="{{csrf_token}}">
        <button class="button button-ok" type="submit">Approve</button>
      </form>
      % failed_here = failed_id == p.id
      <details class="reject"{{!' open' if failed_here else ''}}>
        <summary class="button button-secondary">Reject…</summary>
        <form method="post" action="/admin/products/{{p.id}}/reject" class="stack">
          <input type="hidden" name="csrf_token" value="{{csrf_token}}">
          % include('_field.tpl', name='reason', label='Reason (sent to the seller)', type='textarea', rows=3, value=reason if failed_here else '', required=True, errors=errors if failed_here else {}, hint='Say what must change, so the seller can fix it and submit again.')
          <button class="button button-danger" type="submit">Reject product</button>
        </form>
      </details>
    </div>
    % elif p.status == 'approved':
    <p><a href="/products/{{p.slug}}">View in the shop →</a></p>
    % end
  </div>
</article>
% end
