% rebase('base.tpl')
<section class="page-head">
  <h1>Orders</h1>
  <p class="muted">{{page.total}} order{{'' if page.total == 1 else 's'}}{{'' if chosen == 'all' else ' ' + chosen}}.</p>
</section>
<nav class="tabs" aria-label="Filter by status">
  % for name in filters:
  <a href="/admin/orders?status={{name}}"{{!' aria-current="page" class="active"' if name == chosen else ''}}>{{name.title()}}</a>
  % end
</nav>
% if not page.items:
<div class="empty"><p>No orders here.</p></div>
% else:
<div class="table-wrap">
<table class="list responsive">
  <thead><tr><th>Order</th><th>Date</th><th>Buyer</th><th class="num">Items</th><th class="num">Total</th><th>Gateway</th><th>Status</th></tr></thead>
  <tbody>
  % for order in page.items:
  <tr>
    <td data-label="Order"><a href="/admin/orders/{{order.id}}">{{order.reference}}</a></td>
    <td data-label="Date" class="nowrap">{{order.created_at.strftime('%d %b %Y %H:%M')}}</td>
    % buyer_name, buyer_email = contact(order, order.buyer)
    <td data-label="Buyer">{{buyer_name or 'Guest'}}<br><span class="muted small">{{buyer_email}}</span></td>
    <td data-label="Items" class="num">{{counts.get(order.id, 0)}}</td>
    <td data-label="Total" class="num">{{money(order.total, order.currency)}}</td>
    <td data-label="Gateway">{{labels.get(order.gateway, order.gateway)}}</td>
    <td data-label="Status"><span class="badge badge-{{order.status}}">{{order.status}}</span>
      % refund = refunds.get(order.id)
      % if refund is not None and refund.status != 'succeeded':
      <span class="badge badge-{{'pending' if refund.status == 'requested' else 'failed'}}">refund {{refund.status}}</span>
      % end
    </td>
  </tr>
  % end
  </tbody>
</table>
</div>
% include('_pager.tpl', page=page, base_query=base_query)
% end
