% rebase('base.tpl')
<p class="small"><a href="/admin/orders">← All orders</a></p>
<section class="panel">
  <div class="toolbar">
    <div>
      <p class="eyebrow">Order</p>
      <h1>{{order.reference}} <span class="badge badge-{{order.status}}">{{order.status}}</span></h1>
    </div>
    % if order.status == 'paid' and (refund is None or refund.status == 'failed'):
    <form method="post" action="/admin/orders/{{order.id}}/refund" class="refund-form">
      <input type="hidden" name="csrf_token" value="{{csrf_token}}">
      <button class="button button-danger" type="submit">Refund {{money(order.total, order.currency)}}</button>
    </form>
    % end
  </div>
  <dl class="kv">
    % buyer_name, buyer_email = contact(order, buyer)
    <dt>Buyer</dt><dd>{{buyer_name or 'Guest'}} · {{buyer_email}}</dd>
    <dt>Created</dt><dd>{{order.created_at.strftime('%d %b %Y %H:%M')}} UTC</dd>
    <dt>Paid</dt><dd>{{order.paid_at.strftime('%d %b %Y %H:%M') + ' UTC' if order.paid_at else '—'}}</dd>
    <dt>Total</dt><dd>{{money(order.total, order.currency)}}</dd>
    % if order.discount:
    <dt>Discount</dt><dd>{{money(order.discount, order.currency)}} off the list prices</dd>
    % end
    % if order.tax_country:
    <dt>Net · tax</dt><dd>{{money(order.net_total, order.currency)}} · {{money(order.tax_total or 0, order.currency)}} ({{order.tax_rate}}%, {{order.tax_treatment.replace('_', ' ')}})</dd>
    <dt>Billed to</dt><dd>{{', '.join(part for part in (order.buyer_business_name, order.buyer_tax_number, order.tax_country) if part)}}</dd>
    <dt>Country evidence</dt><dd>{{', '.join(f"{name.replace('_', ' ')}: {value}" for name, value in sorted(tax_evidence.items()) if value)}}{{!' <strong>— names another country than the one taxed</strong>' if evidence_conflicts else ''}}</dd>
    % end
    <dt>Gateway</dt><dd>{{labels.get(order.gateway, order.gateway)}}</dd>
    <dt>Gateway reference</dt><dd>{{order.gateway_ref or '—'}}</dd>
    <dt>Payment</dt><dd>{{order.payment_ref or '—'}}</dd>
    <dt>Invoice</dt><dd>
      % if invoice:
      <a href="/orders/{{order.id}}/invoice">{{invoice.label}}</a>
      % else:
      —
      % end
    </dd>
    % for note in credit_notes:
    <dt>Credit note</dt><dd>{{note.label}} · {{money(note.gross, note.currency)}}</dd>
    % end
    % if refund:
    <dt>Refund</dt><dd>{{refund.status}}{{' · ' + refund.gateway_ref if refund.gateway_ref else ''}}{{' · ' + refund.error if refund.error else ''}}</dd>
    % end
    % if order.status_reason:
    <dt>Note</dt><dd>{{order.status_reason}}</dd>
    % end
  </dl>
</section>
<section class="panel">
  <h2>Items</h2>
  <div class="table-wrap">
  <table class="list responsive">
    <thead><tr><th>Product</th><th>Seller</th><th class="num">Price</th><th>Download link</th></tr></thead>
    <tbody>
    % for item in items:
    % link = links.get(item.id)
    <tr>
      <td data-label="Product">{{item.title}}</td>
      <td data-label="Seller">{{item.seller.name}}</td>
      <td data-label="Price" class="num">{{money(item.price, item.currency)}}{{' (list ' + money(item.list_price, item.currency) + ')' if item.discount else ''}}</td>
      <td data-label="Download link">{{(link_state(link) + ' · %d/%d used' % (link.download_count, link.max_downloads)) if link else '—'}}</td>
    </tr>
    % end
    </tbody>
  </table>
  </div>
</section>
% if order.status == 'paid':
<section class="panel">
  <h2>Credit note for a partial refund</h2>
  <p class="muted small">After refunding some items in the gateway's own dashboard, issue their credit note here: it cancels the invoice for those items and is emailed to the buyer. An item is credited once.</p>
  <form method="post" action="/admin/orders/{{order.id}}/credit-note" class="stack">
    <input type="hidden" name="csrf_token" value="{{csrf_token}}">
    % for item in items:
    % if item.id not in credited:
    <label><input type="checkbox" name="item_id" value="{{item.id}}"> {{item.title}} · {{money(item.price, item.currency)}}</label>
    % end
    % end
    % include('_field.tpl', name='reason', label='Reason', value='', errors={}, attrs='maxlength="500"')
    <button class="button button-secondary" type="submit">Issue credit note</button>
  </form>
</section>
% end
<section class="panel">
  <h2>Gateway events</h2>
  % if not events:
  <p class="muted">None received.</p>
  % else:
  <div class="table-wrap">
  <table class="list responsive">
    <thead><tr><th>Received</th><th>Event</th><th>Outcome</th></tr></thead>
    <tbody>
    % for event in events:
    <tr>
      <td data-label="Received" class="nowrap">{{event.received_at.strftime('%d %b %H:%M:%S')}}</td>
      <td data-label="Event">{{event.event_type}}<br><span class="muted small event-id">{{event.event_id}}</span></td>
      <td data-label="Outcome">{{event.outcome or ('processing' if not event.processed_at else '')}}</td>
    </tr>
    % end
    </tbody>
  </table>
  </div>
  % end
</section>
