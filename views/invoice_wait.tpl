% rebase('base.tpl')
<section class="panel narrow center" id="invoice-wait" data-invoice-status-url="/orders/{{order.id}}/invoice.json" aria-live="polite">
  <p class="eyebrow">Order {{order.reference}}</p>
  <h1>Preparing your invoice</h1>
  <p class="status-line"><span class="spinner" aria-hidden="true"></span> The PDF is being made; it opens here by itself in a moment.</p>
  <form method="post" action="/orders/{{order.id}}/invoice">
    <input type="hidden" name="csrf_token" value="{{csrf_token}}">
    <button class="button button-secondary" type="submit">Check again</button>
  </form>
</section>
