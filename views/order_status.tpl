% rebase('base.tpl')
<section class="panel order-status state-{{progress['state']}}" id="order-status" data-status-url="/orders/{{order.id}}/status.json" aria-live="polite">
  <p class="eyebrow">Order {{order.reference}}</p>
  <h1 data-role="heading">{{progress['heading']}}</h1>
  <p class="status-line"><span class="spinner" aria-hidden="true"></span> <span data-role="message">{{progress['message']}}</span></p>
  <ul class="download-list" data-role="links">
    % for link in progress['links']:
    <li>
      <span class="download-title">{{link['title']}}<span class="muted small">{{link['file']}}</span></span>
      <a class="button button-small" href="{{link['url']}}">Download</a>
      <span class="muted small download-meta">{{link['remaining']}} downloads left · until {{link['expires']}}</span>
      % if link['license_key']:
      <span class="license-key small">License key <code>{{link['license_key']}}</code></span>
      % end
    </li>
    % end
  </ul>
  <p data-role="invoice"{{!'' if progress['invoice_url'] and progress['state'] == 'ready' else ' hidden'}}>
    % if user is None:
    The links and the invoice are in your email too; its link brings you back to this order.
    % else:
    <a href="/purchases">All your purchases</a> · the invoice is emailed to you and can be downloaded there.
    % end
  </p>
  <p data-role="retry"{{!'' if progress['state'] in ('failed', 'expired') or progress['late'] else ' hidden'}}><a class="button" href="/cart">Back to your cart</a></p>
  % if can_cancel:
  <form method="post" action="/orders/{{order.id}}/cancel" data-role="cancel">
    <input type="hidden" name="csrf_token" value="{{csrf_token}}">
    <button class="button button-secondary" type="submit">Cancel this order</button>
    <span class="muted small">Nothing is charged; its products go back to your cart.</span>
  </form>
  % end
  <noscript><p><a href="/orders/{{order.id}}/success">Refresh</a> to see the latest status.</p></noscript>
</section>
<section class="panel">
  <h2>What you ordered</h2>
  <ul class="summary-items">
    % for item in items:
    <li><span>{{item.title}}<br><span class="muted small">by {{item.seller.name}}</span></span><span class="nowrap">{{money(item.price, item.currency)}}</span></li>
    % end
  </ul>
  <dl class="summary-lines">
    % if order.discount:
    <dt>Discount</dt><dd>-{{money(order.discount, order.currency)}}</dd>
    % end
    <dt class="summary-total">Total</dt><dd class="summary-total">{{money(order.total, order.currency)}}</dd>
  </dl>
</section>
