% rebase('base.tpl')
<section class="panel">
  <h1>Webhook endpoint</h1>
  <p><strong>{{endpoint.url}}</strong></p>
  <p>Events: {{', '.join(endpoint.events)}}</p>
  % if endpoint.disabled_at:
  <div class="flash flash-error" role="alert">Disabled {{endpoint.disabled_at.strftime('%d %b %Y %H:%M')}} UTC: {{endpoint.disabled_reason}}
    <form method="post" action="/account/webhooks/{{endpoint.id}}/enable">
      <input type="hidden" name="csrf_token" value="{{csrf_token}}">
      <button class="button" type="submit">Enable again</button>
    </form>
  </div>
  % end
  <p>Signing secret: <code id="signing-secret">{{secret}}</code></p>
  <p class="hint">Each POST carries <code>{{signature_header}}: t=&lt;unix time&gt;,v1=&lt;hex HMAC-SHA256 of "t.body" under this secret&gt;</code>,
    and the event's id in <code>Marketplace-Event-Id</code>: keep the ids you have handled, as an event may arrive twice.</p>
  <form method="post" action="/account/webhooks/{{endpoint.id}}/test">
    <input type="hidden" name="csrf_token" value="{{csrf_token}}">
    <input type="hidden" name="request_key" value="{{request_key}}">
    <button class="button button-secondary" type="submit">Send a test event</button>
  </form>

  <h2>Deliveries</h2>
  % if not log:
  <p class="muted">Nothing was sent to this endpoint yet.</p>
  % end
  <table class="table">
    % for sent, attempts in log:
    <tr id="delivery-{{sent.id}}">
      <td><code>{{sent.event.type}}</code><br><code>{{sent.event.event_id}}</code></td>
      <td>{{'delivered' if sent.delivered_at else 'given up' if sent.gave_up_at else 'stopped: the endpoint is disabled' if endpoint.disabled_at else 'retrying'}}</td>
      <td>
      % for attempt in attempts:
        <div class="attempt">{{attempt.started_at.strftime('%d %b %H:%M:%S')}} · {{attempt.status_code or 'no answer'}} · {{attempt.duration_ms}} ms{{' · ' + attempt.error if attempt.error else ''}}</div>
      % end
      </td>
      <td>
        <form method="post" action="/account/webhooks/deliveries/{{sent.id}}/resend">
          <input type="hidden" name="csrf_token" value="{{csrf_token}}">
          <input type="hidden" name="request_key" value="{{request_key}}-{{sent.id}}">
          <button class="button button-secondary" type="submit">Send again</button>
        </form>
      </td>
    </tr>
    % end
  </table>
  <form method="post" action="/account/webhooks/{{endpoint.id}}/delete">
    <input type="hidden" name="csrf_token" value="{{csrf_token}}">
    <button class="button button-danger" type="submit">Delete this endpoint</button>
  </form>
</section>
