<div class="charts">
% for c in charts:
% include('_queue_chart.tpl', c=c)
% end
</div>
