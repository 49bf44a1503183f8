% rebase('base.tpl')
<section class="page-head">
  <h1>Balance</h1>
  <p class="muted">Your share of each sale after the platform's {{('%g' % commission)}}% commission. Refunds are booked as reversing entries. A sale stays pending for {{hold_days}} day{{'' if hold_days == 1 else 's'}}, while it can still be refunded; then it is available and paid out to you.</p>
</section>
<div class="stat-grid">
  % if not balances:
  <div class="stat stat-main"><span class="stat-label">Balance</span><span class="stat-value">{{money(0, currency)}}</span></div>
  % end
  % for code, balance in balances.items():
  % figures = summary.get(code, {})
  % suffix = ' (' + code + ')' if len(balances) > 1 else ''
  <div class="stat stat-main"><span class="stat-label">Balance{{suffix}}</span><span class="stat-value">{{money(balance.total, code)}}</span></div>
  <div class="stat stat-pending"><span class="stat-label">Pending{{suffix}}</span><span class="stat-value">{{money(balance.pending, code)}}</span></div>
  <div class="stat stat-available"><span class="stat-label">Available to pay out{{suffix}}</span><span class="stat-value">{{money(balance.available, code)}}</span>
    % if balance.available < 0:
    <span class="muted small">A refund came after a payout; your next payout is smaller by this.</span>
    % end
  </div>
  <div class="stat stat-paid"><span class="stat-label">Paid out{{suffix}}</span><span class="stat-value">{{money(balance.paid_out, code)}}</span></div>
  <div class="stat"><span class="stat-label">Items sold</span><span class="stat-value">{{figures.get('sold', 0)}}</span></div>
  <div class="stat"><span class="stat-label">Gross sales</span><span class="stat-value">{{money(figures.get('gross', 0), code)}}</span></div>
  <div class="stat"><span class="stat-label">Commission</span><span class="stat-value">{{money(figures.get('fee', 0), code)}}</span></div>
  <div class="stat"><span class="stat-label">Refunded</span><span class="stat-value">{{money(-figures.get('refunds', 0), code)}}</span></div>
  % end
</div>
% if stripe_enabled:
<section class="connect-status">
  <h2>Getting paid with Stripe</h2>
  % if connected and connected.details_submitted and connected.payouts_enabled:
  <p><span class="badge badge-approved">connected</span> Your Stripe account {{connected.account_id}} is connected: your available balance is sent to it on the payout schedule once it reaches {{money(minimum, currency)}}.</p>
  % else:
  % if connected:
  <p><span class="badge badge-pending">set-up not finished</span> Stripe still needs some details before it can pay you.</p>
  % else:
  <p>Connect a Stripe account to be paid automatically. Without one, the shop's owner pays you by bank transfer or PayPal.</p>
  % end
  <form method="post" action="/seller/payouts/connect">
    <input type="hidden" name="csrf_token" value="{{csrf_token}}">
    <button class="button button-ok" type="submit">{{'Continue the set-up on Stripe' if connected else 'Connect with Stripe'}}</button>
  </form>
  % end
</section>
% end
% if payouts:
<h2>Payouts</h2>
<div class="table-wrap">
<table class="list responsive payouts">
  <thead><tr><th>Date</th><th>Paid by</th><th>Reference</th><th>Status</th><th class="num">Amount</th></tr></thead>
  <tbody>
  % for payout in payouts:
  <tr>
    <td data-label="Date" class="nowrap">{{payout.created_at.strftime('%d %b %Y')}}</td>
    <td data-label="Paid by">{{methods.get(payout.method, payout.method)}}</td>
    <td data-label="Reference">{{payout.reference or '—'}}</td>
    <td data-label="Status">{{'back in your balance' if payout.status == 'returned' else payout.status}}</td>
    <td data-label="Amount" class="num"><strong>{{money(payout.amount, payout.currency)}}</strong></td>
  </tr>
  % end
  </tbody>
</table>
</div>
% end
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
    % if entry.kind == 'payout':
    <td data-label="Order">—</td>
    <td data-label="Product">Payout</td>
    <td data-label="Entry"><span class="badge badge-approved">payout</span></td>
    % elif entry.kind == 'payout_returned':
    <td data-label="Order">—</td>
    <td data-label="Product">Payout that did not go through</td>
    <td data-label="Entry"><span class="badge badge-refunded">payout returned</span></td>
    % else:
    <td data-label="Order">{{entry.order.reference}}</td>
    <td data-label="Product">{{entry.order_item.title}}</td>
    <td data-label="Entry"><span class="badge badge-{{'paid' if entry.kind == 'sale' else 'refunded'}}">{{'sale' if entry.kind == 'sale' else 'refund'}}</span></td>
    % end
    % if entry.kind in ('payout', 'payout_returned'):
    <td data-label="Sale" class="num">—</td>
    <td data-label="Commission" class="num">—</td>
    % else:
    <td data-label="Sale" class="num">{{money(entry.gross, entry.currency)}}</td>
    <td data-label="Commission" class="num">{{money(-entry.fee, entry.currency)}}</td>
    % end
    <td data-label="Your share" class="num"><strong>{{money(entry.amount, entry.currency)}}</strong></td>
  </tr>
  % end
  </tbody>
</table>
</div>
% end
