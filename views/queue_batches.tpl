% rebase('base.tpl')
% include('_queue_nav.tpl')
<div class="queue-live" data-live-url="{{live_url}}" data-live-interval="{{refresh_ms}}">
  <p class="live-status small muted" data-live-status>Batches refresh every few seconds.</p>
  <section data-live="batch-list">
    % include('_queue_batch_list.tpl', batches=batches)
  </section>
</div>
