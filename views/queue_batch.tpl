% rebase('base.tpl')
% include('_queue_nav.tpl')
% b = detail['batch']
<p class="eyebrow"><a href="/admin/queue/batches">← Batches</a></p>
% include('_queue_batch_list.tpl', batches=[b])
<dl class="kv small batch-facts">
  <dt>Id</dt><dd class="mono">{{b['id']}}</dd>
  <dt>Created</dt><dd>{{f.when(b['created_at'])}} UTC</dd>
  % if b['finished_at']:
  <dt>Finished</dt><dd>{{f.when(b['finished_at'])}} UTC</dd>
  % end
  <dt>Failures</dt><dd>{{'allowed' if b['allow_failures'] else 'the first one cancels the rest'}}</dd>
</dl>
<h2>Jobs</h2>
% include('_queue_job_rows.tpl', jobs=detail['jobs'], empty='The batch has no jobs (or they were pruned).')
