% rebase('base.tpl')
% include('_queue_nav.tpl')
<div class="queue-live" data-live-url="{{live_url}}" data-live-interval="{{refresh_ms}}">
  <p class="live-status small muted" data-live-status>Updated <time datetime="{{o['generated_at']}}">{{f.when(o['generated_at'])}} UTC</time></p>
  <div data-live="alerts">
    % include('_queue_alerts.tpl')
  </div>
  <section aria-label="Overview" data-live="tiles">
    % include('_queue_tiles.tpl')
  </section>
  <h2>Workload</h2>
  <section data-live="workload">
    % include('_queue_workload.tpl')
  </section>
  <h2>The last hour</h2>
  <section data-live="charts">
    % include('_queue_charts.tpl')
  </section>
  <p class="more-link"><a href="/admin/queue/metrics">Metrics per job and per queue →</a></p>
  <h2>Workers</h2>
  <section data-live="workers">
    % include('_queue_workers.tpl')
  </section>
  <h2>Batches in progress</h2>
  <section data-live="batches">
    % include('_queue_batches.tpl')
  </section>
  <h2>Recent jobs</h2>
  <section data-live="recent">
    % include('_queue_recent.tpl')
  </section>
</div>
