% rebase('base.tpl')
<section class="page-head">
  <h1>Your cart</h1>
  <p class="muted">Digital products: pay once, download straight away.</p>
</section>
% if cancelled:
<div class="flash flash-warning" role="status">The payment for order {{cancelled}} was cancelled. Nothing was charged, and your cart is as you left it.</div>
% end
% if not items:
<div class="empty">
  <p>Your cart is empty.</p>
  <p><a class="button" href="/">Browse products</a></p>
</div>
% else:
<div class="checkout-layout">
  <section class="panel cart-list" aria-label="Products in your cart">
    % for item in items:
    % product = item.product
    <div class="cart-row{{' is-unavailable' if product.status != 'approved' else ''}}">
      % thumb = product.thumbnail_url(160)
      % if thumb:
      <img class="row-thumb" src="{{thumb}}" alt="" width="64" height="48">
      % else:
      <div class="row-thumb thumb-placeholder" aria-hidden="true"><span>{{product.title[:1].upper()}}</span></div>
      % end
      <div class="cart-row-text">
        % if product.status == 'approved':
        <a class="cart-title" href="/products/{{product.slug}}">{{product.title}}</a>
        % else:
        <span class="cart-title">{{product.title}}</span> <span class="badge badge-failed">No longer on sale</span>
        % end
        <p class="muted small">by {{product.seller.name}}</p>
      </div>
      % line = lines.get(product.id)
      % if line is not None and line.discount:
      <p class="price cart-price"><s class="muted">{{money(line.list_price, product.currency)}}</s> {{money(line.price, product.currency)}}</p>
      % elif line is not None:
      <p class="price cart-price">{{money(line.price, product.currency)}}{{' (your price)' if product.pay_what_you_want else ''}}</p>
      % else:
      <p class="price cart-price">{{money(product.price, product.currency)}}</p>
      % end
      <form class="cart-remove" method="post" action="/cart/remove">
        <input type="hidden" name="csrf_token" value="{{csrf_token}}">
        <input type="hidden" name="product_id" value="{{product.id}}">
        <button class="link-button small" type="submit" aria-label="Remove {{product.title}}">Remove</button>
      </form>
    </div>
    % end
  </section>
  <aside class="panel order-summary" aria-label="Summary">
    <h2>Summary</h2>
    <dl class="summary-lines">
      <dt>Products</dt><dd>{{len(available)}}</dd>
      % if quote is not None and quote.code is not None:
      <dt>Subtotal</dt><dd>{{money(quote.subtotal, quote.currency)}}</dd>
      <dt>Code {{quote.code.code}}</dt><dd class="discount">-{{money(quote.discount, quote.currency)}}</dd>
      % end
      % for currency, total in totals.items():
      <dt class="summary-total">Total</dt><dd class="summary-total">{{money(total, currency)}}</dd>
      % end
    </dl>
    <form class="discount-form" method="post" action="/cart/code">
      <input type="hidden" name="csrf_token" value="{{csrf_token}}">
      % if code_text:
      <p class="small">Discount code <strong>{{code_text}}</strong>
        <button class="link-button small" type="submit" name="action" value="remove">Remove</button></p>
      % if quote is not None and quote.refusal:
      <p class="field-error">{{quote.refusal}}</p>
      % end
      % end
      <label class="small" for="discount-code">{{'Another code' if code_text else 'Discount code'}}</label>
      <span class="inline-field"><input id="discount-code" type="text" name="code" maxlength="32" autocomplete="off">
        <button class="button button-small" type="submit" name="action" value="apply">Apply</button></span>
    </form>
    % if unavailable:
    <p class="field-error">Remove the products that are no longer on sale to continue.</p>
    % elif len(totals) > 1:
    <p class="field-error">Your cart mixes currencies; buy them in separate orders.</p>
    % else:
    <a class="button button-block" href="/checkout">Proceed to checkout</a>
    % end
    <p class="muted small">Download links arrive right after payment, with an invoice by email.</p>
  </aside>
</div>
% end
