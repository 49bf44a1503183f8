% rebase('base.tpl')
% code = figures['currency']
% totals = figures['totals']
<section class="page-head">
  <h1>Reports</h1>
  <p class="muted">Your sales, refunds, the platform's commission and your payouts over the last {{days}} days (UTC). Sales count on the day they were paid, refunds on the day they were refunded.</p>
</section>
<nav class="tabs" aria-label="Period">
  % for period in periods:
  <a href="/seller/reports?days={{period}}"{{!' aria-current="page" class="active"' if period == days else ''}}>{{period}} days</a>
  % end
</nav>
<div class="stat-grid">
  <div class="stat stat-main"><span class="stat-label">Gross sales</span><span class="stat-value">{{money(totals['gross'], code)}}</span></div>
  <div class="stat"><span class="stat-label">Items sold</span><span class="stat-value">{{totals['sold']}}</span></div>
  <div class="stat"><span class="stat-label">Refunds</span><span class="stat-value">{{money(totals['refunds'], code)}}</span></div>
  % if totals.get('tax'):
  <div class="stat"><span class="stat-label">Buyers' tax (the shop's to pay)</span><span class="stat-value">{{money(totals['tax'], code)}}</span></div>
  % end
  <div class="stat"><span class="stat-label">Commission (on sales less tax)</span><span class="stat-value">{{money(totals['fees'], code)}}</span></div>
  <div class="stat"><span class="stat-label">Your net</span><span class="stat-value">{{money(totals['net'], code)}}</span></div>
  <div class="stat"><span class="stat-label">Paid out</span><span class="stat-value">{{money(totals['payouts'], code)}}</span></div>
</div>
% include('_sales_chart.tpl', c=chart)
<h2>Per product</h2>
% if not figures['products']:
<div class="empty"><p>No sales in these {{days}} days.</p></div>
% else:
<div class="table-wrap">
<table class="list responsive per-product">
  <thead><tr><th>Product</th><th class="num">Sold</th><th class="num">Gross</th><th class="num">Refunded</th><th class="num">Commission</th><th class="num">Net</th></tr></thead>
  <tbody>
  % for row in figures['products']:
  <tr>
    <td data-label="Product">{{row['title']}}</td>
    <td data-label="Sold" class="num">{{row['sold']}}</td>
    <td data-label="Gross" class="num">{{money(row['gross'], code)}}</td>
    <td data-label="Refunded" class="num">{{money(row['refunds'], code)}}{{' (%d)' % row['refunded'] if row['refunded'] else ''}}</td>
    <td data-label="Commission" class="num">{{money(row['fees'], code)}}</td>
    <td data-label="Net" class="num"><strong>{{money(row['net'], code)}}</strong></td>
  </tr>
  % end
  </tbody>
</table>
</div>
% end
<h2>For your accountant</h2>
<p>CSV files of the last {{days}} days, one row per item sold or refunded and one per payout, amounts in {{code}} with a decimal point:</p>
<p class="actions"><a class="button button-secondary" href="/seller/reports/sales.csv?days={{days}}">Sales (CSV)</a>
  <a class="button button-secondary" href="/seller/reports/payouts.csv?days={{days}}">Payouts (CSV)</a></p>
