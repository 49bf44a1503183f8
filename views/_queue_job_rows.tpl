% # A table of jobs. Arguments: jobs, and optional empty (the message when there are none).
% if not jobs:
<div class="empty"><p>{{get('empty', 'No jobs here.')}}</p></div>
% else:
<div class="table-wrap">
<table class="list responsive queue-table jobs">
  <thead><tr><th>Job</th><th>Queue</th><th>State</th><th class="num">Attempts</th><th class="num">Duration</th><th>Queued</th><th>Finished</th></tr></thead>
  <tbody>
  % for j in jobs:
  <tr>
    <td data-label="Job" class="cell-head"><a class="row-title" href="/admin/queue/jobs/{{j['uuid']}}">{{j['name']}}</a> <span class="muted small mono">{{f.short_uuid(j['uuid'])}}</span>
      % if j['chain_total']:
      <span class="badge">step {{j['chain_step']}}/{{j['chain_total']}}</span>
      % end
      % if j['batch_id']:
      <span class="badge">batch</span>
      % end
      % for tag in j.get('tags') or []:
      <span class="badge badge-tag">{{tag}}</span>
      % end
      % if j['state'] == 'failed' and j['last_error']:
      <p class="reason small">{{j['last_error'][:160]}}</p>
      % end
    </td>
    <td data-label="Queue">{{j['queue']}}</td>
    <td data-label="State"><span class="badge badge-{{j['state']}}">{{j['state']}}</span></td>
    <td data-label="Attempts" class="num">{{j['attempts']}}</td>
    <td data-label="Duration" class="num">{{f.duration(j['duration'])}}</td>
    <td data-label="Queued"><time datetime="{{j['created_at']}}" title="{{j['created_at']}}">{{f.ago(j['created_at'])}}</time>
      % if j['state'] == 'scheduled':
      <span class="muted small">· due {{f.when(j['available_at'])}}</span>
      % end
    </td>
    <td data-label="Finished">{{!'<time datetime="%s" title="%s">%s</time>' % (j['finished_at'], j['finished_at'], f.ago(j['finished_at'])) if j['finished_at'] else '<span class="muted">—</span>'}}</td>
  </tr>
  % end
  </tbody>
</table>
</div>
% end
