% rebase('base.tpl')
<section class="panel narrow center" id="invoice-wait" data-invoice-status-url="{{invoice_url}}.json" aria-live="polite">
  <p class="eyebrow">Order {{order.reference}}</p>
  <h1 data-role="heading">Preparing your invoice</h1>
  <p class="status-line" data-role="waiting"><span class="spinner" aria-hidden="true"></span> The PDF is being made; it downloads by itself in a moment.</p>
  <p data-role="ready" hidden>Your invoice is downloading. <a href="{{invoice_url}}">Download it again</a> · <a href="{{invoice_url}}?view=1">View it in the browser</a> · <a href="{{back}}">Back to {{"your purchases" if back == "/purchases" else "your order"}}</a></p>
  <form method="post" action="{{invoice_url}}" data-role="check">
    <input type="hidden" name="csrf_token" value="{{csrf_token}}">
    <button class="button button-secondary" type="submit">Check again</button>
  </form>
</section>
