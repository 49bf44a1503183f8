% rebase('base.tpl')
% include('_queue_nav.tpl')
<div class="toolbar">
  <nav class="chips" aria-label="Failed jobs by queue">
    <a href="/admin/queue/failed"{{!' aria-current="page" class="active"' if not queue else ''}}>Every queue</a>
    % for q in queues:
    <a href="/admin/queue/failed?queue={{q}}"{{!' aria-current="page" class="active"' if q == queue else ''}}>{{q}}</a>
    % end
  </nav>
  % if page['total']:
  <div class="form-actions">
    <form method="post" action="/admin/queue/failed/retry-all" data-confirm="Retry {{page['total']}} failed job(s)?">
      <input type="hidden" name="csrf_token" value="{{csrf_token}}">
      <input type="hidden" name="queue" value="{{queue or ''}}">
      <input type="hidden" name="next" value="{{next_url}}">
      <button class="button button-small button-ok" type="submit">Retry all{{' on ' + queue if queue else ''}}</button>
    </form>
    <form method="post" action="/admin/queue/failed/flush" data-confirm="Delete every failed job? They cannot be retried afterwards.">
      <input type="hidden" name="csrf_token" value="{{csrf_token}}">
      <button class="button button-small button-danger" type="submit">Flush all</button>
    </form>
  </div>
  % end
</div>
% if not page['rows']:
<div class="empty"><p>No failed jobs{{' on the %s queue' % queue if queue else ''}}. Jobs land here when they have used up their attempts.</p></div>
% else:
<div class="table-wrap">
<table class="list responsive queue-table failed">
  <thead><tr><th class="num">#</th><th>Job</th><th>Error</th><th class="num">Attempts</th><th>Failed</th><th><span class="visually-hidden">Actions</span></th></tr></thead>
  <tbody>
  % for r in page['rows']:
  <tr id="failed-{{r['id']}}">
    <td data-label="#" class="num">{{r['id']}}</td>
    <td data-label="Job" class="cell-head"><a class="row-title" href="/admin/queue/jobs/{{r['uuid']}}">{{r['name']}}</a> <span class="muted small">on {{r['queue']}}</span></td>
    <td data-label="Error" class="error-cell cell-wide"><strong>{{r['exception']}}</strong>: {{r['message'][:200]}}</td>
    <td data-label="Attempts" class="num">{{r['attempts']}}</td>
    <td data-label="Failed"><time datetime="{{r['failed_at']}}" title="{{r['failed_at']}}">{{f.ago(r['failed_at'])}}</time></td>
    <td class="actions-cell cell-wide">
      <form method="post" action="/admin/queue/failed/{{r['id']}}/retry">
        <input type="hidden" name="csrf_token" value="{{csrf_token}}">
        <input type="hidden" name="next" value="{{next_url}}">
        <button class="button button-small button-ok" type="submit">Retry</button>
      </form>
      <form method="post" action="/admin/queue/failed/{{r['id']}}/forget">
        <input type="hidden" name="csrf_token" value="{{csrf_token}}">
        <input type="hidden" name="next" value="{{next_url}}">
        <button class="button button-small button-secondary" type="submit">Forget</button>
      </form>
    </td>
  </tr>
  % end
  </tbody>
</table>
</div>
% end
% if page['pages'] > 1:
<nav class="pager" aria-label="Pages">
  % base = '/admin/queue/failed?' + ('queue=%s&' % queue if queue else '')
  % if page['page'] > 1:
  <a href="{{base}}page={{page['page'] - 1}}" rel="prev">← Newer</a>
  % end
  <span>Page {{page['page']}} of {{page['pages']}}</span>
  % if page['page'] < page['pages']:
  <a href="{{base}}page={{page['page'] + 1}}" rel="next">Older →</a>
  % end
</nav>
% end
