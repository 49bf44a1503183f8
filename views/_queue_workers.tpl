% if not o['workers']:
<div class="empty">
  <p>No worker is running, so no job runs. Start a consumer with <code>huey_consumer tasks.huey -w 4</code> (or <code>marketplace queue work</code>).</p>
</div>
% else:
<div class="table-wrap">
<table class="list responsive queue-table workers">
  <thead><tr><th>Worker</th><th>Queues</th><th>Started</th><th>Current job</th><th class="num">Jobs done</th><th class="num">Memory</th><th>Heartbeat</th></tr></thead>
  <tbody>
  % for w in o['workers']:
  <tr class="{{'stale' if w['stale'] else ''}}">
    <td data-label="Worker" class="cell-head"><strong>{{w['host']}}</strong> <span class="muted">pid {{w['pid']}} · {{w['name']}}</span></td>
    <td data-label="Queues">{{', '.join(w['queues']) if w['queues'] else 'all'}}</td>
    <td data-label="Started"><time datetime="{{w['started_at']}}" title="{{w['started_at']}}">{{f.ago(w['started_at'])}}</time></td>
    <td data-label="Current job">
      % if w['current_job']:
      <a href="/admin/queue/jobs/{{w['current_job']}}">{{w['current_job_name']}}</a>
      % else:
      <span class="muted">idle</span>
      % end
    </td>
    <td data-label="Jobs done" class="num">{{f.number(w['jobs_done'])}}</td>
    <td data-label="Memory" class="num">{{f.size(w['rss_bytes'])}}</td>
    <td data-label="Heartbeat">
      % if w['stale']:
      <span class="badge badge-stale">stale</span> {{f.ago(w['last_beat_at'])}}
      % else:
      <span class="badge badge-ok">alive</span> {{f.ago(w['last_beat_at'])}}
      % end
    </td>
  </tr>
  % end
  </tbody>
</table>
</div>
% end
