% rebase('base.tpl')
% include('_queue_nav.tpl')
% from urllib.parse import urlencode
% r = job['record']
% failure = job['failure']
<article class="panel job-detail">
  <p class="eyebrow"><a href="/admin/queue/jobs">← Jobs</a></p>
  <h2 class="job-title">{{job['name']}} <span class="badge badge-{{r['state'] if r else 'failed'}}">{{r['state'] if r else 'failed'}}</span></h2>
  <dl class="kv">
    <dt>Id</dt><dd class="mono">{{job['uuid']}}</dd>
    <dt>Queue</dt><dd>{{job['queue']}}</dd>
    % if r and r['tags']:
    <dt>Tags</dt><dd class="tags">
      % for tag in r['tags']:
      <a class="badge" href="/admin/queue/jobs?{{urlencode({'tag': tag})}}">{{tag}}</a>
      % end
    </dd>
    % end
    % if r:
    <dt>Attempts</dt><dd>{{r['attempts']}}{{' (%d raised, %d lost with their worker)' % (r['exceptions'], r['lost']) if r['exceptions'] or r['lost'] else ''}}</dd>
    <dt>Queued</dt><dd>{{f.when(r['created_at'])}} UTC</dd>
    <dt>Due</dt><dd>{{f.when(r['available_at'])}} UTC</dd>
    % if r['reserved_at']:
    <dt>Last started</dt><dd>{{f.when(r['reserved_at'])}} UTC on <span class="mono">{{r['reserved_by']}}</span></dd>
    % end
    % if r['finished_at']:
    <dt>Finished</dt><dd>{{f.when(r['finished_at'])}} UTC</dd>
    % end
    <dt>Duration</dt><dd>{{f.duration(r['duration'])}}{{' (last attempt)' if r['attempts'] > 1 else ''}}</dd>
    % if r['chain_id']:
    <dt>Chain</dt><dd><a href="/admin/queue/chains/{{r['chain_id']}}">step {{r['chain_step']}} of {{r['chain_total']}}</a></dd>
    % end
    % if r['batch_id']:
    <dt>Batch</dt><dd><a href="/admin/queue/batches/{{r['batch_id']}}" class="mono">{{r['batch_id'][:8]}}</a></dd>
    % end
    % if r['last_error'] and not failure:
    <dt>Last error</dt><dd class="reason">{{r['last_error']}}</dd>
    % end
    % end
  </dl>
  % if r and r['state'] in ('pending', 'scheduled'):
  <div class="form-actions">
    <form method="post" action="/admin/queue/jobs/{{job['uuid']}}/run-now">
      <input type="hidden" name="csrf_token" value="{{csrf_token}}">
      <input type="hidden" name="next" value="{{next_url}}">
      <button class="button button-ok" type="submit">Run now</button>
    </form>
    <form method="post" action="/admin/queue/jobs/{{job['uuid']}}/delete" data-confirm="Delete this job? It will not run.">
      <input type="hidden" name="csrf_token" value="{{csrf_token}}">
      <input type="hidden" name="next" value="{{next_url}}">
      <button class="button button-secondary" type="submit">Delete</button>
    </form>
  </div>
  % end
  <h3>Arguments</h3>
  % if job['encrypted']:
  <p class="muted">This job is encrypted: its arguments stay hidden.</p>
  % elif arguments is not None:
  <pre class="arguments">{{arguments}}</pre>
  % else:
  <p class="reason">{{job['arguments_error'] or 'No arguments are stored.'}}</p>
  % end
</article>
% if failure:
<article class="panel failure" id="failure">
  <h2 class="job-title">Failed after {{failure['attempts']}} attempt{{'' if failure['attempts'] == 1 else 's'}}</h2>
  <p><strong>{{failure['exception']}}</strong>: {{failure['message']}}</p>
  <p class="muted small">Failed {{f.when(failure['failed_at'])}} UTC · failed job #{{failure['id']}}</p>
  <div class="form-actions">
    <form method="post" action="/admin/queue/failed/{{failure['id']}}/retry">
      <input type="hidden" name="csrf_token" value="{{csrf_token}}">
      <input type="hidden" name="next" value="{{next_url}}">
      <button class="button button-ok" type="submit">Retry</button>
    </form>
    <form method="post" action="/admin/queue/failed/{{failure['id']}}/forget" data-confirm="Forget this failed job? It cannot be retried afterwards.">
      <input type="hidden" name="csrf_token" value="{{csrf_token}}">
      <input type="hidden" name="next" value="{{next_url}}">
      <button class="button button-secondary" type="submit">Forget</button>
    </form>
  </div>
  % if failure['traceback']:
  <h3>Traceback</h3>
  <pre class="traceback">{{failure['traceback']}}</pre>
  % else:
  <p class="muted">No traceback: the runtime ended this job itself (a timeout, a lost worker or too many attempts).</p>
  % end
</article>
% end
