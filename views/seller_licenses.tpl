% rebase('base.tpl')
<section class="page-head">
  <h1>License keys</h1>
  <p class="muted">One key per item sold of the products that issue them. Your software checks them through the license API at <code>/api/licenses/v1/</code> (activate, validate, deactivate).</p>
</section>
<form class="inline-field" method="get" action="/seller/licenses" role="search">
  <label class="visually-hidden" for="key-search">Find a key</label>
  <input id="key-search" type="text" name="q" value="{{search}}" placeholder="Find a key, or part of one">
  <button class="button button-small" type="submit">Find</button>
</form>
% if not keys and search:
<p class="muted">No key of yours contains “{{search}}”.</p>
% elif not keys:
<p class="muted">No keys yet: turn on "Issue a license key with each sale" on a product's form.</p>
% else:
<div class="table-wrap">
<table class="list responsive license-keys">
  <thead><tr><th>Key</th><th>Product</th><th>Buyer</th><th>State</th><th>Activations</th><th></th></tr></thead>
  <tbody>
  % for key in keys:
  % state = key_state(key)
  <tr id="key-{{key.id}}">
    <td data-label="Key"><code>{{key.key}}</code><br><span class="muted small">{{key.created_at.strftime('%d %b %Y')}}{{' · until ' + key.expires_at.strftime('%d %b %Y') if key.expires_at else ''}}</span></td>
    <td data-label="Product">{{key.product.title}}</td>
    <td data-label="Buyer">{{key.buyer.name}}</td>
    <td data-label="State"><span class="badge badge-{{'paid' if state == 'active' else 'failed'}}">{{state}}</span></td>
    <td data-label="Activations">{{key.activation_count}} of {{key.activation_limit}}
      % for instance in activations.get(key.id, []):
      <br><span class="small">{{instance.name}} <span class="muted">since {{instance.created_at.strftime('%d %b %Y')}}</span></span>
      % end
    </td>
    <td class="actions">
      % if state != 'refunded' and key.disabled_reason != 'replaced':
      % for action, label in (('reset', 'Reset activations'), ('replace', 'Issue a replacement'), ('disable', 'Disable')):
      % if action != 'disable' or not key.disabled_at:
      <form method="post" action="/seller/licenses/{{key.id}}/{{action}}">
        <input type="hidden" name="csrf_token" value="{{csrf_token}}">
        <button class="link-button small" type="submit">{{label}}</button>
      </form>
      % end
      % end
      % end
    </td>
  </tr>
  % end
  </tbody>
</table>
</div>
% end
