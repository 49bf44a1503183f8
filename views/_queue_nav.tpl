% # The queue area's heading and tabs. Arguments: active, failed_count.
% tabs = [('dashboard', '/admin/queue', 'Dashboard'), ('jobs', '/admin/queue/jobs', 'Jobs'), ('failed', '/admin/queue/failed', 'Failed'), ('batches', '/admin/queue/batches', 'Batches'), ('chains', '/admin/queue/chains', 'Chains'), ('metrics', '/admin/queue/metrics', 'Metrics')]
<section class="page-head queue-head">
  <h1>Queue</h1>
  <p class="muted">Every background job of the shop: what waits, what runs, what failed, and how fast it all goes.</p>
</section>
<nav class="tabs queue-tabs" aria-label="Queue">
  % for key, href, label in tabs:
  <a href="{{href}}"{{!' aria-current="page" class="active"' if key == active else ''}}>{{label}}
    % if key == 'failed':
    <span class="badge{{' badge-failed' if failed_count else ''}}" data-live-count="failed">{{f.number(failed_count)}}</span>
    % end
  </a>
  % end
</nav>
