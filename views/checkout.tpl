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
    <fieldset class="stack billing">
      <legend>Billing details</legend>
      <div class="field{{' has-error' if errors.get('country') else ''}}">
        <label for="f-country">Country</label>
        <select id="f-country" name="country" required{{!' aria-describedby="e-country"' if errors.get('country') else ''}}>
          <option value="">Choose your country</option>
          % for code, name in countries.items():
          <option value="{{code}}"{{!' selected' if form.get('country') == code else ''}}>{{name}}</option>
          % end
        </select>
        <p class="hint">Where you live, or where your business is established: its {{'VAT or GST' if tax_calculation == 'table' else 'tax'}} rules apply to this purchase, and your invoice shows it.</p>
        % if errors.get('country'):
        <p class="field-error" id="e-country">{{errors['country']}}</p>
        % end
      </div>
      <details{{!' open' if form.get('business_name') or form.get('tax_number') or errors.get('tax_number') or errors.get('business_name') else ''}}>
        <summary>Buying for a business?</summary>
        % include('_field.tpl', name='business_name', label='Business name', value=form.get('business_name'), attrs='autocomplete="organization" maxlength="200"')
        % include('_field.tpl', name='address', label='Billing address', type='textarea', rows=3, value=form.get('address'))
        % include('_field.tpl', name='tax_number', label='VAT or GST number', value=form.get('tax_number'), hint='With its country prefix, such as FR12345678901. A business in another EU country than ours pays no VAT: the reverse charge applies.', attrs='maxlength="20"')
      </details>
    </fieldset>
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
      % if tax_calculation != 'off':
      <dt class="muted small">{{'Prices include the tax of your country' if prices_include_tax else 'Plus the tax of your country, shown on the payment page'}}</dt><dd></dd>
      % end
      % end
    </dl>
    <p class="small"><a href="/cart">Edit cart</a></p>
  </aside>
</div>
