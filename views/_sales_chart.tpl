% # The sales chart of shop/payouts/chart.py. Argument: c.
<figure class="chart chart-{{c['kind']}}">
  <figcaption><strong>{{c['title']}}</strong> <span class="muted small">{{c['summary']}}</span></figcaption>
  <div class="chart-body">
    <div class="chart-y" aria-hidden="true"><span>{{c['y_top']}}</span><span>{{c['y_mid']}}</span><span>0</span></div>
    <div class="chart-area">{{!c['svg']}}</div>
  </div>
  <div class="chart-x" aria-hidden="true">
    % for label in c['x_labels']:
    <span>{{label}}</span>
    % end
  </div>
  <p class="chart-unit small muted">{{c['unit']}} · UTC</p>
</figure>
