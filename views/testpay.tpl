% rebase('base.tpl')
<section class="panel narrow testpay">
  <p class="test-stamp">Test mode · no money moves</p>
  <h1>Simulated payment</h1>
  <p class="muted">This page stands in for a payment gateway. <strong>Pay</strong> sends a signed
    “payment succeeded” notification to the shop's webhook, <strong>Decline</strong> a “payment failed”
    one, exactly as a real gateway would.</p>
  <dl class="kv testpay-facts">
    <dt>Order</dt><dd>{{order.reference}}</dd>
    <dt>Amount</dt><dd><strong>{{money(order.total, order.currency)}}</strong></dd>
    <dt>Items</dt><dd>{{', '.join(item.title for item in items)}}</dd>
  </dl>
  <form class="testpay-actions" method="post" action="/pay/test/{{order.id}}">
    <input type="hidden" name="csrf_token" value="{{csrf_token}}">
    <button class="button button-ok" type="submit" name="action" value="pay">Pay {{money(order.total, order.currency)}}</button>
    <button class="button button-danger" type="submit" name="action" value="decline">Decline</button>
  </form>
  <p class="small"><a href="/cart?cancelled={{order.reference}}">Cancel and return to the cart</a></p>
</section>
