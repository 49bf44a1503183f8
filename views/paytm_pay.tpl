% rebase('base.tpl')
<section class="panel narrow" id="paytm-checkout" data-mid="{{checkout['mid']}}" data-order-id="{{checkout['order_id']}}"
  data-token="{{checkout['token']}}" data-amount="{{checkout['amount']}}">
  <p class="eyebrow">Order {{order.reference}}</p>
  <h1>Pay with Paytm</h1>
  <p>Amount: <strong>{{money(order.total, order.currency)}}</strong> for {{len(items)}} product{{'' if len(items) == 1 else 's'}}.</p>
  <p class="muted" data-role="paytm-status">Opening Paytm's secure payment window…</p>
  <form method="post" action="{{checkout['fallback_url']}}" class="stack">
    <input type="hidden" name="mid" value="{{checkout['mid']}}">
    <input type="hidden" name="orderId" value="{{checkout['order_id']}}">
    <input type="hidden" name="txnToken" value="{{checkout['token']}}">
    <button class="button" type="submit">Continue to Paytm</button>
  </form>
  <p class="small"><a href="/cart?cancelled={{order.reference}}">Cancel and return to the cart</a></p>
</section>
