% rebase('base.tpl')
% include('_queue_nav.tpl')
% from urllib.parse import urlencode
% def link(**changes):
%   params = {'state': state, 'queue': queue, **search}
%   params.update(changes)
%   query = urlencode({k: v for k, v in params.items() if v})
%   return '/admin/queue/jobs' + ('?' + query if query else '')
% end
<form class="job-search" method="get" action="/admin/queue/jobs" role="search">
  <label>Name <input type="search" name="name" value="{{search['name'] or ''}}" placeholder="process_purchase"></label>
  <label>Tag <input type="search" name="tag" value="{{search['tag'] or ''}}" placeholder="order:42"></label>
  <label>Argument <input type="search" name="q" value="{{search['q'] or ''}}" placeholder="text in the arguments"></label>
  % if state:
  <input type="hidden" name="state" value="{{state}}">
  % end
  % if queue:
  <input type="hidden" name="queue" value="{{queue}}">
  % end
  <button class="button" type="submit">Search</button>
  % if any(search.values()):
  <a href="{{link(name=None, tag=None, q=None)}}">Clear the search</a>
  % end
</form>
% if any(search.values()):
<p class="small muted">The newest {{search_limit}} matches at most. An encrypted job's arguments are never searched.</p>
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
% if any(search.values()):
% include('_queue_job_rows.tpl', jobs=jobs, empty='No job matches this search.')
% else:
% include('_queue_job_rows.tpl', jobs=jobs, empty='No %s jobs%s among the newest records.' % (state or '', ' on the %s queue' % queue if queue else ''))
% end
<nav class="pager" aria-label="Pages">
  % if before:
  <a href="{{link()}}">← Newest</a>
  % end
  % if next_before:
  <a href="{{link()}}{{'&' if (state or queue) else '?'}}before={{next_before}}" rel="next">Older →</a>
  % end
</nav>
