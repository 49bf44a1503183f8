% rebase('base.tpl')
<section class="page-head">
  <h1>{{title}}</h1>
  % if shop_wide:
  <p class="muted">Codes for every product of the shop. Each seller's share and the commission follow the price paid after the discount.</p>
  % else:
  <p class="muted">Codes for your own products. Your share and the commission follow the price paid after the discount.</p>
  % end
</section>
% if codes:
<div class="table-wrap">
<table class="list responsive discount-codes">
  <thead><tr><th>Code</th><th>Discount</th><th>Products</th><th>Valid</th><th>Used</th><th>Share</th><th></th></tr></thead>
  <tbody>
  % for code in codes:
  <tr>
    <td data-label="Code"><strong>{{code.code}}</strong>{{!' <span class="badge badge-failed">disabled</span>' if code.disabled_at else ''}}</td>
    <td data-label="Discount">{{describe(code)}}{{' on orders from ' + money(code.min_order, code.currency) if code.min_order else ''}}</td>
    <td data-label="Products">{{'All' if code.all_products else ', '.join(choices.get(pid, '#%d' % pid) for pid in sorted(chosen.get(code.id, ())))}}</td>
    <td data-label="Valid">{{code.starts_at.strftime('%d %b %Y') if code.starts_at else 'now'}} – {{(code.ends_at).strftime('%d %b %Y') + ' (ends)' if code.ends_at else 'no end'}}</td>
    <td data-label="Used">{{code.used_count}}{{' of %d' % code.max_uses if code.max_uses else ''}}{{' · %d per customer' % code.max_uses_per_customer if code.max_uses_per_customer else ''}}</td>
    <td data-label="Share"><code class="small">{{app_url}}/?code={{quote_code(code.code)}}</code></td>
    <td>
      % if not code.disabled_at:
      <form method="post" action="{{base}}/{{code.id}}/disable">
        <input type="hidden" name="csrf_token" value="{{csrf_token}}">
        <button class="link-button small" type="submit">Disable</button>
      </form>
      % end
    </td>
  </tr>
  % end
  </tbody>
</table>
</div>
% else:
<p class="muted">No codes yet.</p>
% end
<h2>New code</h2>
% if get('error_message') and '_' in errors:
<div class="flash flash-error" role="alert">{{error_message}}</div>
% end
<form class="panel stack" method="post" action="{{base}}">
  <input type="hidden" name="csrf_token" value="{{csrf_token}}">
  % include('_field.tpl', name='code', label='Code', value=form.get('code'), required=True, attrs='maxlength="32" autocomplete="off" placeholder="SPRING"', hint='Letters, digits, - and _; customers may type it in any case.')
  <fieldset class="{{'has-error' if errors.get('kind') else ''}}">
    <legend>Discount</legend>
    <label class="check"><input type="radio" name="kind" value="percent"{{!' checked' if form.get('kind') == 'percent' else ''}}> A percentage</label>
    <label class="check"><input type="radio" name="kind" value="fixed"{{!' checked' if form.get('kind') == 'fixed' else ''}}> A fixed amount ({{currency}})</label>
    % if errors.get('kind'):
    <p class="field-error">{{errors['kind']}}</p>
    % end
  </fieldset>
  % include('_field.tpl', name='amount', label='Amount', value=form.get('amount'), required=True, attrs='inputmode="decimal" placeholder="20"', hint='20 for 20% off, or 5.00 off the order.')
  <fieldset class="{{'has-error' if errors.get('products') else ''}}">
    <legend>Products (none chosen: all {{"the shop's" if shop_wide else 'yours'}})</legend>
    % for product_id, product_title in choices.items():
    <label class="check"><input type="checkbox" name="products" value="{{product_id}}"{{!' checked' if str(product_id) in (form.get('products') or []) else ''}}> {{product_title}}</label>
    % end
    % if errors.get('products'):
    <p class="field-error">{{errors['products']}}</p>
    % end
  </fieldset>
  <div class="form-row">
    <div>
    % include('_field.tpl', name='starts_on', label='First day', type='date', value=form.get('starts_on'))
    </div>
    <div>
    % include('_field.tpl', name='ends_on', label='Last day', type='date', value=form.get('ends_on'))
    </div>
  </div>
  <div class="form-row">
    <div>
    % include('_field.tpl', name='max_uses', label='Uses in all', value=form.get('max_uses'), attrs='inputmode="numeric"', hint='Empty: no limit.')
    </div>
    <div>
    % include('_field.tpl', name='max_uses_per_customer', label='Uses per customer', value=form.get('max_uses_per_customer'), attrs='inputmode="numeric"', hint='Empty: no limit.')
    </div>
  </div>
  % include('_field.tpl', name='min_order', label='Minimum order (%s)' % currency, value=form.get('min_order'), attrs='inputmode="decimal"', hint='Of the prices before the discount; empty for none.')
  <button class="button" type="submit">Create code</button>
</form>
