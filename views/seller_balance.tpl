% rebase('base.tpl')
<section class="page-head">
  <h1>Balance</h1>
  <p class="muted">Your share of each sale after the platform's {{('%g' % commission)}}% commission. Refunds are booked as reversing entries.</p>
</section>
<div class="stat-grid">
  % if not balances:
  <div class="stat"><span class="stat-label">Available balance</span><span class="stat-value">{{money(0, currency)}}</span></div>
  % end
  % for code, amount in balances.items():
  % figures = summary.get(code, {})
  <div class="stat stat-main"><span class="stat-label">Available balance{{' (' + code + ')' if len(balances) > 1 else ''}}</span><span class="stat-value">{{money(amount, code)}}</span></div>
  <div class="stat"><span class="stat-label">Items sold</span><span class="stat-value">{{figures.get('sold', 0)}}</span></div>
  <div class="stat"><span class="stat-label">Gross sales</span><span class="stat-value">{{money(figures.get('gross', 0), code)}}</span></div>
  <div class="stat"><span class="stat-label">Commission</span><span class="stat-value">{{money(figures.get('fee', 0), code)}}</span></div>
  <div class="stat"><span class="stat-label">Refunded</span><span class="stat-value">{{money(-figures.get('refunds', 0), code)}}</span></div>
  % end
</div>
<h2>Ledger</h2>
% if not entries:
<div class="empty"><p>No sales yet. Your share of each sale appears here as soon as it is paid.</p></div>
% else:
<div class="table-wrap">
<table class="list responsive">
  <thead><tr><th>Date</th><th>Order</th><th>Product</th><th>Entry</th><th class="num">Sale</th><th class="num">Commission</th><th class="num">Your share</th></tr></thead>
  <tbody>
  % for entry in entries:
  <tr>
    <td data-label="Date" class="nowrap">{{entry.created_at.strftime('%d %b %Y %H:%M')}}</td>
    <td data-label="Order">{{entry.order.reference}}</td>
    <td data-label="Product">{{entry.order_item.title}}</td>
    <td data-label="Entry"><span class="badge badge-{{'paid' if entry.kind == 'sale' else 'refunded'}}">{{'sale' if entry.kind == 'sale' else 'refund'}}</span></td>
    <td data-label="Sale" class="num">{{money(entry.gross, entry.currency)}}</td>
    <td data-label="Commission" class="num">{{money(-entry.fee, entry.currency)}}</td>
    <td data-label="Your share" class="num"><strong>{{money(entry.amount, entry.currency)}}</strong></td>
  </tr>
  % end
  </tbody>
</table>
</div>
% end
