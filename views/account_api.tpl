% rebase('base.tpl')
% failed = get('failed')
% mine = lambda which: errors if failed == which else {}
<section class="panel narrow">
  <h1>API and webhooks</h1>
  <p>Connect your own tools: read the shop through the <a href="/api/v1/openapi.json">JSON API</a> with a
    personal access token, and have the shop POST signed events to your URLs.</p>

  <h2>Personal access tokens</h2>
  % new_token = get('new_token')
  % if new_token:
  <div class="flash flash-success" role="status">
    <p>Your new token “{{new_token_row.name}}”. Copy it now: it is shown this once and never again.</p>
    <p><code id="new-token">{{new_token}}</code></p>
  </div>
  % end
  % if tokens:
  <table class="table">
    <thead><tr><th>Name</th><th>Token</th><th>Scopes</th><th>Expires</th><th>Last used</th><th></th></tr></thead>
    <tbody>
    % for token in tokens:
      <tr id="token-{{token.id}}">
        <td>{{token.name}}</td><td><code>{{token.prefix}}…</code></td><td>{{token.scopes}}</td>
        <td>{{token.expires_at.strftime('%d %b %Y')}}</td>
        <td>{{token.last_used_at.strftime('%d %b %Y %H:%M') if token.last_used_at else 'never'}}</td>
        <td>
        % if token.revoked_at:
          revoked
        % else:
          <form method="post" action="/account/api/tokens/{{token.id}}/revoke">
            <input type="hidden" name="csrf_token" value="{{csrf_token}}">
            <button class="button button-secondary" type="submit">Revoke</button>
          </form>
        % end
        </td>
      </tr>
    % end
    </tbody>
  </table>
  % end
  <form method="post" action="/account/api/tokens" class="stack">
    <input type="hidden" name="csrf_token" value="{{csrf_token}}">
    % include('_field.tpl', name='name', label='Token name', value=form.get('name') if failed == 'token' else '', required=True, attrs='maxlength="80"', errors=mine('token'))
    <div class="field"><label for="f-scopes">Scopes</label>
      <select id="f-scopes" name="scopes"><option value="read">read</option><option value="read write">read and write</option></select>
      % if mine('token').get('scopes'):
      <p class="field-error">{{errors['scopes']}}</p>
      % end
    </div>
    <div class="field"><label for="f-expires">Expires in</label>
      <select id="f-expires" name="expires_in_days">
      % for days in expiry_choices:
        <option value="{{days}}"{{!' selected' if days == 30 else ''}}>{{days}} days</option>
      % end
      </select>
    </div>
    <button class="button" type="submit">Make a token</button>
  </form>

  <h2>Webhook endpoints</h2>
  % if endpoints:
  <ul class="plain-list">
  % for endpoint in endpoints:
    <li><a href="/account/webhooks/{{endpoint.id}}">{{endpoint.url}}</a> · {{', '.join(endpoint.events)}}{{' · disabled' if endpoint.disabled_at else ''}}</li>
  % end
  </ul>
  % end
  <form method="post" action="/account/webhooks" class="stack">
    <input type="hidden" name="csrf_token" value="{{csrf_token}}">
    % include('_field.tpl', name='url', label='Endpoint URL', type='url', value=form.get('url') if failed == 'endpoint' else '', required=True, attrs='maxlength="2000"', errors=mine('endpoint'))
    <fieldset class="field"><legend>Events</legend>
    % chosen = (form.get('events') or []) if failed == 'endpoint' else []
    % for name, description in event_types.items():
      <label class="choice"><input type="checkbox" name="events" value="{{name}}"{{!' checked' if name in chosen else ''}}> <span><code>{{name}}</code> {{description}}</span></label>
    % end
    % if mine('endpoint').get('events'):
      <p class="field-error">{{errors['events']}}</p>
    % end
    </fieldset>
    <button class="button" type="submit">Add the endpoint</button>
  </form>
</section>
