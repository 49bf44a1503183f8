% rebase('base.tpl')
% include('_queue_nav.tpl')
% from urllib.parse import urlencode
% def link(**changes):
%   params = {'state': state, 'queue': queue}
%   params.update(changes)
%   query = urlencode({k: v for k, v in params.items() if v})
%   return '/admin/queue/jobs' + ('?' + query if query else '')
% end
<div class="filters">
  <nav class="chips" aria-label="Jobs by state">
    <a href="{{link(state=None)}}"{{!' aria-current="page" class="active"' if not state else ''}}>All</a>
    % for s in states:
    <a href="{{link(state=s)}}"{{!' aria-current="page" class="active"' if s == state else ''}}>{{s.title()}}</a>
    % end
  </nav>
  <nav class="chips" aria-label="Jobs by queue">
    <a href="{{link(queue=None)}}"{{!' aria-current="page" class="active"' if not queue else ''}}>Every queue</a>
    % for q in queues:
    <a href="{{link(queue=q)}}"{{!' aria-current="page" class="active"' if q == queue else ''}}>{{q}}</a>
    % end
  </nav>
</div>
% include('_queue_job_rows.tpl', jobs=jobs, empty='No %s jobs%s among the newest records.' % (state or '', ' on the %s queue' % queue if queue else ''))
<nav class="pager" aria-label="Pages">
  % if before:
  <a href="{{link()}}">← Newest</a>
  % end
  % if next_before:
  <a href="{{link()}}{{'&' if (state or queue) else '?'}}before={{next_before}}" rel="next">Older →</a>
  % end
</nav>
