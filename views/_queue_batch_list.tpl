% # Batches with progress bars. Arguments: batches, next_url, and optional empty and compact.
% if not batches and get('compact'):
<p class="muted">{{get('empty', 'No batches yet.')}}</p>
% elif not batches:
<div class="empty"><p>{{get('empty', 'No batches yet. A batch is a group of jobs started together; it shows here with its progress until every job in it has finished.')}}</p></div>
% end
<ul class="batch-list">
% for b in batches:
  <li class="batch">
    <div class="batch-head">
      <a class="row-title" href="/admin/queue/batches/{{b['id']}}">{{b['name'] or 'Batch ' + b['id'][:8]}}</a>
      <span class="badge badge-{{b['state']}}">{{b['state']}}</span>
      <span class="muted small">started {{f.ago(b['created_at'])}}</span>
    </div>
    <div class="batch-progress">
      <progress max="100" value="{{b['progress']}}" aria-label="Progress of {{b['name'] or 'the batch'}}">{{b['progress']}}%</progress>
      <span class="small"><strong>{{b['progress']}}%</strong> · {{f.number(b['processed'])}} of {{f.number(b['total'])}} done{{(' · %s failed' % f.number(b['failed'])) if b['failed'] else ''}}</span>
    </div>
    % if b['state'] == 'running':
    <form method="post" action="/admin/queue/batches/{{b['id']}}/cancel" data-confirm="Cancel this batch? Its jobs that have not started will be skipped.">
      <input type="hidden" name="csrf_token" value="{{csrf_token}}">
      <input type="hidden" name="next" value="{{next_url}}">
      <button class="button button-small button-secondary" type="submit">Cancel batch</button>
    </form>
    % end
  </li>
% end
</ul>
