% rebase('base.tpl')
% include('_queue_nav.tpl')
% from urllib.parse import urlencode
% def link(**changes):
%   params = {'period': period, 'job': job_name, 'queue': queue}
%   params.update(changes)
%   query = urlencode({k: v for k, v in params.items() if v})
%   return '/admin/queue/metrics' + ('?' + query if query else '')
% end
<div class="filters">
  <nav class="chips" aria-label="Period">
    % for key, (label, _minutes, _step) in periods.items():
    <a href="{{link(period=key)}}"{{!' aria-current="page" class="active"' if key == period else ''}}>{{label}}</a>
    % end
  </nav>
  % if job_name or queue:
  <p class="small">Showing {{subject}} · <a href="{{link(job=None, queue=None)}}">show all jobs</a></p>
  % end
</div>
% include('_queue_charts.tpl', charts=charts)
<h2>Wait per queue</h2>
<p class="small muted">How long jobs waited between becoming due and a worker taking them, counted when they finished.</p>
% include('_queue_charts.tpl', charts=wait_charts)
<h2>Per queue</h2>
<div class="table-wrap">
<table class="list responsive queue-table metrics-table">
  <thead><tr><th>Queue</th><th class="num">Jobs</th><th class="num">Failed</th><th class="num">Per minute</th><th class="num">Average runtime</th><th class="num">Slowest</th><th class="num">Average wait</th><th class="num">Longest wait</th></tr></thead>
  <tbody>
  % for r in queue_rows:
  <tr{{!' class="selected"' if r['queue'] == queue else ''}}>
    <td data-label="Queue" class="cell-head"><a class="row-title" href="{{link(queue=r['queue'], job=None)}}">{{r['queue']}}</a></td>
    <td data-label="Jobs" class="num">{{f.number(r['processed'])}}</td>
    <td data-label="Failed" class="num">{{f.number(r['failed'])}}</td>
    <td data-label="Per minute" class="num">{{'%.1f' % (r['processed'] / minutes)}}</td>
    <td data-label="Average runtime" class="num">{{f.duration(r['avg_duration'])}}</td>
    <td data-label="Slowest" class="num">{{f.duration(r['duration_max']) if r['processed'] else '—'}}</td>
    <td data-label="Average wait" class="num">{{f.duration(r['avg_wait'])}}</td>
    <td data-label="Longest wait" class="num">{{f.duration(r['wait_max']) if r['avg_wait'] is not None else '—'}}</td>
  </tr>
  % end
  </tbody>
</table>
</div>
<h2>Per job</h2>
% if not by_job:
<div class="empty"><p>No job finished in this period.</p></div>
% else:
<div class="table-wrap">
<table class="list responsive queue-table metrics-table">
  <thead><tr><th>Job</th><th class="num">Jobs</th><th class="num">Failed</th><th class="num">Per minute</th><th class="num">Average runtime</th><th class="num">Slowest</th></tr></thead>
  <tbody>
  % for r in by_job:
  <tr{{!' class="selected"' if r['name'] == job_name else ''}}>
    <td data-label="Job" class="cell-head"><a class="row-title" href="{{link(job=r['name'], queue=None)}}">{{r['name']}}</a></td>
    <td data-label="Jobs" class="num">{{f.number(r['processed'])}}</td>
    <td data-label="Failed" class="num">{{f.number(r['failed'])}}{{' (%.0f%%)' % (100.0 * r['failed'] / r['processed']) if r['failed'] else ''}}</td>
    <td data-label="Per minute" class="num">{{'%.1f' % (r['processed'] / minutes)}}</td>
    <td data-label="Average runtime" class="num">{{f.duration(r['avg_duration'])}}</td>
    <td data-label="Slowest" class="num">{{f.duration(r['duration_max'])}}</td>
  </tr>
  % end
  </tbody>
</table>
</div>
% end
