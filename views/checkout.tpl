% rebase('base.tpl')
<section class="page-head">
  <h1>Checkout</h1>
  <p class="muted">Choose how to pay. The payment itself is made on the next page: nothing is charged until you confirm it there.</p>
</section>
% if get('error_message') and not errors.get('gateway'):
<div class="flash flash-error" role="alert">{{error_message}}</div>
% end
<div class="checkout-layout">
  <form class="panel stack" method="post" action="/checkout">
    <input type="hidden" name="csrf_token" value="{{csrf_token}}">
    <fieldset class="pay-methods{{' has-error' if errors.get('gateway') else ''}}">
      <legend>Payment method</legend>
      % if free:
      <input type="hidden" name="gateway" value="free">
      <p>Nothing to pay: your order is free.</p>
      % end
      % if not gateways:
      <p class="field-error">No payment method can take this currency. Please contact the shop.</p>
      % end
      % for gateway in ([] if free else gateways):
      <label class="pay-option">
        <input type="radio" name="gateway" value="{{gateway}}" required{{!' checked' if form.get('gateway') == gateway else ''}}>
        <span class="pay-option-text">
          <strong>{{labels[gateway]}}</strong>
          % if gateway == 'stripe':
          <span class="hint">Pay by card on Stripe's secure page.</span>
          % elif gateway == 'paytm':
          <span class="hint">UPI, cards, net banking or the Paytm wallet.</span>
          % else:
          <span class="hint">A local page with Pay and Decline buttons, for trying the shop out.</span>
          % end
        </span>
      </label>
      % end
      % if errors.get('gateway'):
      <p class="field-error">{{errors['gateway']}}</p>
      % end
    </fieldset>
    % if user is None:
    % include('_field.tpl', name='email', label='Your email address', type='email', value=form.get('email'), required=True, attrs='autocomplete="email"')
    <p class="muted small">No account needed: the receipt, the download links and the invoice go to this address. To keep everything in one library, <a href="/login?next=/checkout">log in</a> or create an account later with the same address.</p>
    % else:
    <p class="muted small">Billed to {{user.name}} ({{user.email}}).</p>
    % end
    % for currency, total in totals.items():
    % if free:
    <button class="button button-block" type="submit">Get it free</button>
    % else:
    <button class="button button-block" type="submit"{{!' disabled' if not gateways else ''}}>Continue to payment · {{money(total, currency)}}</button>
    % end
    % end
  </form>
  <aside class="panel order-summary" aria-label="Your order">
    <h2>Your order</h2>
    <ul class="summary-items">
      % for item in available:
      <li><span>{{item.product.title}}<br><span class="muted small">by {{item.product.seller.name}}</span></span><span class="nowrap">{{money(lines[item.product.id].price if item.product.id in lines else item.product.price, item.product.currency)}}</span></li>
      % end
    </ul>
    <dl class="summary-lines">
      % if quote is not None and quote.code is not None:
      <dt>Code {{quote.code.code}}</dt><dd>-{{money(quote.discount, quote.currency)}}</dd>
      % end
      % for currency, total in totals.items():
      <dt class="summary-total">Total</dt><dd class="summary-total">{{money(total, currency)}}</dd>
      % end
    </dl>
    <p class="small"><a href="/cart">Edit cart</a></p>
  </aside>
</div>
