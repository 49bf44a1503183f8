<div class="table-wrap">
<table class="list responsive queue-table workload">
  <thead><tr><th>Queue</th><th>Status</th><th class="num">Pending</th><th class="num">Scheduled</th><th class="num">Running</th><th class="num">Oldest wait</th><th class="num">Estimated wait</th><th class="num">Workers</th><th><span class="visually-hidden">Actions</span></th></tr></thead>
  <tbody>
  % for q in o['queues']:
  <tr id="queue-{{q['name']}}">
    <td data-label="Queue" class="cell-head"><strong>{{q['name']}}</strong></td>
    <td data-label="Status"><span class="badge badge-{{'cancelled' if q['paused'] else 'ok'}}">{{'Paused' if q['paused'] else 'Running'}}</span></td>
    <td data-label="Pending" class="num">{{f.number(q['pending'])}}</td>
    <td data-label="Scheduled" class="num">{{f.number(q['scheduled'])}}</td>
    <td data-label="Running" class="num">{{f.number(q['running'])}}</td>
    <td data-label="Oldest wait" class="num">{{f.duration(q['oldest_wait']) if q['pending'] else '—'}}</td>
    <td data-label="Estimated wait" class="num">
      % if not q['pending']:
      —
      % elif q['estimated_wait'] is not None:
      {{f.duration(q['estimated_wait'])}}
      % elif q['workers'] == 0:
      <span class="text-bad">no worker takes it</span>
      % else:
      <span class="muted">not known yet</span>
      % end
    </td>
    <td data-label="Workers" class="num">{{q['workers']}}</td>
    <td class="actions-cell cell-wide">
      <form method="post" action="/admin/queue/queues/{{q['name']}}/{{'continue' if q['paused'] else 'pause'}}">
        <input type="hidden" name="csrf_token" value="{{csrf_token}}">
        <input type="hidden" name="next" value="{{next_url}}">
        <button class="button button-small {{'button-ok' if q['paused'] else 'button-secondary'}}" type="submit">{{'Continue' if q['paused'] else 'Pause'}}</button>
      </form>
    </td>
  </tr>
  % end
  </tbody>
</table>
</div>
<p class="hint">Estimated wait = pending × average runtime this hour ÷ workers taking the queue.</p>
