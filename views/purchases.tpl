% rebase('base.tpl')
<section class="page-head">
  <h1>Your purchases</h1>
  <p class="muted">Downloads and invoices for everything you have bought.</p>
</section>
% if not rows:
<div class="empty">
  <p>You have not bought anything yet.</p>
  <p><a class="button" href="/">Browse products</a></p>
</div>
% end
% for row in rows:
% order = row['order']
<article class="panel purchase" id="{{order.reference}}">
  <header class="purchase-head">
    <div>
      <h2>Order {{order.reference}}</h2>
      <p class="muted small">{{order.created_at.strftime('%d %b %Y')}} · {{labels.get(order.gateway, order.gateway)}}</p>
    </div>
    <div class="purchase-total">
      <span class="badge badge-{{order.status}}">{{order.status}}</span>
      <strong>{{money(order.total, order.currency)}}</strong>
    </div>
  </header>
  <ul class="purchase-items">
    % for item in row['items']:
    % link = row['links'].get(item.id)
    <li>
      <div class="purchase-item-text">
        <span class="download-title">{{item.title}}</span>
        <span class="muted small">by {{item.seller.name}}</span>
        % include('_license_key.tpl', key=row['keys'].get(item.id))
        % for update in row['updates'].get(item.product_id, []):
        <p class="small product-update"><strong>Update, {{update.created_at.strftime('%d %b %Y')}}:</strong> {{update.message}}</p>
        % end
      </div>
      % if link is not None and link_state(link) == 'active':
      <div class="purchase-item-action">
        % item_files = product_files(item.product_id)
        % if len(item_files) > 1:
        <a class="button button-small" href="{{link_url(link)}}/all.zip">Download all ({{len(item_files)}} files, ZIP)</a>
        % else:
        <a class="button button-small" href="{{link_url(link)}}">Download</a>
        % end
        <span class="muted small">{{remaining(link)}} of {{link.max_downloads}} left · until {{link.expires_at.strftime('%d %b %Y %H:%M')}} UTC</span>
        % if len(item_files) > 1:
        <ul class="download-files small">
          % for product_file in item_files:
          <li><a href="{{link_url(link)}}/files/{{product_file.id}}">{{product_file.name}}</a> <span class="muted">{{filesize(product_file.size)}}</span></li>
          % end
        </ul>
        % end
      </div>
      % elif link is not None and renewable(link):
      <div class="purchase-item-action">
        <span class="badge badge-failed">{{link_state(link)}}</span>
        <form method="post" action="/purchases/links/{{link.id}}/renew">
          <input type="hidden" name="csrf_token" value="{{csrf_token}}">
          <button class="button button-small" type="submit">Get a new link</button>
        </form>
      </div>
      % elif link is not None:
      <div class="purchase-item-action"><span class="badge badge-failed">{{link_state(link)}}</span></div>
      % elif order.status == 'paid':
      <div class="purchase-item-action"><span class="badge badge-processing">preparing</span></div>
      % end
    </li>
    % end
  </ul>
  <footer class="purchase-foot">
    % if order.paid_at:
    <form method="post" action="/orders/{{order.id}}/invoice">
      <input type="hidden" name="csrf_token" value="{{csrf_token}}">
      <button class="button button-secondary button-small" type="submit">Download invoice{{' ' + row['invoice'].label if row['invoice'] else ''}}</button>
    </form>
    % end
    % for note in row['credit_notes']:
    <a class="button button-secondary button-small" href="/orders/{{order.id}}/credit-notes/{{note.id}}">Download credit note {{note.label}}</a>
    % end
    % if order.status == 'pending':
    <a class="small" href="/orders/{{order.id}}/success">Waiting for the payment: see its status</a>
    % elif order.status in ('failed', 'expired'):
    <span class="muted small">{{order.status_reason or 'Not paid.'}}</span>
    % elif order.status == 'refunded':
    <span class="muted small">Refunded{{' on ' + order.refunded_at.strftime('%d %b %Y') if order.refunded_at else ''}}; the downloads no longer work.</span>
    % end
  </footer>
</article>
% end
