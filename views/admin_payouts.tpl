% rebase('base.tpl')
<section class="page-head">
  <h1>Payouts</h1>
  <p class="muted">Each seller's share of their sales. A sale stays pending for {{hold_days}} day{{'' if hold_days == 1 else 's'}}, so a refund can still come back; after that it is available to pay out. A payout is due from {{money(minimum, currency)}} available.</p>
</section>
<div class="stat-grid">
  % if not commission:
  <div class="stat stat-main"><span class="stat-label">Commission earned</span><span class="stat-value">{{money(0, currency)}}</span></div>
  % end
  % for code, amount in commission.items():
  <div class="stat stat-main"><span class="stat-label">Commission earned{{' (' + code + ')' if len(commission) > 1 else ''}}</span><span class="stat-value">{{money(amount, code)}}</span></div>
  % end
  <div class="stat"><span class="stat-label">Payouts due</span><span class="stat-value">{{len(due)}}</span></div>
</div>
<h2>Sellers</h2>
% if not sellers:
<div class="empty"><p>No seller has sold anything yet.</p></div>
% else:
<div class="table-wrap">
<table class="list responsive">
  <thead><tr><th>Seller</th><th class="num">Pending</th><th class="num">Available</th><th class="num">Paid out</th><th>Record a payout</th></tr></thead>
  <tbody>
  % for seller, balance in sellers:
  % here = failed_id == seller.id
  % field_errors = errors if here else {}
  <tr id="seller-{{seller.id}}">
    <td data-label="Seller">{{seller.name}}<br><span class="muted small">{{seller.email}}</span>
      % if seller.id in due:
      <span class="badge badge-pending">due</span>
      % end
      % if seller.id in on_stripe:
      <br><span class="badge badge-approved">Stripe</span> <span class="muted small">paid on the schedule ({{schedule}} UTC)</span>
      % end
    </td>
    <td data-label="Pending" class="num">{{money(balance.pending, balance.currency)}}</td>
    <td data-label="Available" class="num"><strong>{{money(balance.available, balance.currency)}}</strong>
      % if balance.available < 0:
      <br><span class="muted small">owed after a refund; taken from the next payout</span>
      % end
    </td>
    <td data-label="Paid out" class="num">{{money(balance.paid_out, balance.currency)}}</td>
    <td data-label="Record a payout">
      % if balance.available > 0 or here:
      <details{{!' open' if here else ''}}>
        <summary class="button button-secondary">Record payout…</summary>
        <form method="post" action="/admin/payouts/{{seller.id}}" class="stack payout-form">
          <input type="hidden" name="csrf_token" value="{{csrf_token}}">
          <input type="hidden" name="request_key" value="{{form.get('request_key') if here and form.get('request_key') else request_key}}">
          <input type="hidden" name="currency" value="{{balance.currency}}">
          % for name, label, value in (('amount', 'Amount paid', form.get('amount') if here else money(balance.available, balance.currency)), ('reference', 'Bank or PayPal reference', form.get('reference') if here else '')):
          <div class="field{{' has-error' if field_errors.get(name) else ''}}">
            <label for="f-{{name}}-{{seller.id}}">{{label}}</label>
            <input id="f-{{name}}-{{seller.id}}" name="{{name}}" type="text" value="{{value or ''}}" required>
            % if field_errors.get(name):
            <p class="field-error">{{field_errors[name]}}</p>
            % end
          </div>
          % end
          <div class="field{{' has-error' if field_errors.get('method') else ''}}">
            <label for="f-method-{{seller.id}}">Paid by</label>
            <select id="f-method-{{seller.id}}" name="method">
              % for code, label in methods.items():
              <option value="{{code}}"{{!' selected' if here and form.get('method') == code else ''}}>{{label}}</option>
              % end
            </select>
            % if field_errors.get('method'):
            <p class="field-error">{{field_errors['method']}}</p>
            % end
          </div>
          % if field_errors.get('request_key'):
          <p class="field-error">{{field_errors['request_key']}}</p>
          % end
          <button class="button button-ok" type="submit">Record payout</button>
        </form>
      </details>
      % else:
      <span class="muted small">Nothing to pay</span>
      % end
    </td>
  </tr>
  % end
  </tbody>
</table>
</div>
% end
<h2>Latest payouts</h2>
<p><a class="button button-secondary" href="/admin/payouts.csv" download>Every payout of the last 365 days (CSV)</a></p>
% if not payouts:
<div class="empty"><p>No payouts recorded yet.</p></div>
% else:
<div class="table-wrap">
<table class="list responsive">
  <thead><tr><th>Date</th><th>Seller</th><th>Paid by</th><th>Reference</th><th>Status</th><th class="num">Amount</th></tr></thead>
  <tbody>
  % for payout in payouts:
  <tr>
    <td data-label="Date" class="nowrap">{{payout.created_at.strftime('%d %b %Y %H:%M')}}</td>
    <td data-label="Seller">{{payout.seller.name}}</td>
    <td data-label="Paid by">{{labels.get(payout.method, payout.method)}}</td>
    <td data-label="Reference">{{payout.reference or '—'}}</td>
    <td data-label="Status">{{payout.status}}</td>
    <td data-label="Amount" class="num">{{money(payout.amount, payout.currency)}}</td>
  </tr>
  % end
  </tbody>
</table>
</div>
% end
