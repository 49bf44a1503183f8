% rebase('base.tpl')
% include('_queue_nav.tpl')
<p class="eyebrow"><a href="/admin/queue/chains">← Chains</a></p>
<h2>Chain <span class="mono">{{chain_id[:8]}}</span></h2>
<p class="muted">{{len(steps)}} of {{steps[-1]['chain_total']}} step(s) dispatched so far. Each step is dispatched when the one before it completes; a failed step ends the chain.</p>
<ol class="chain-steps">
% for s in steps:
  <li class="chain-step chain-step-{{s['state']}}">
    <span class="badge badge-{{s['state']}}">{{s['state']}}</span>
    <a href="/admin/queue/jobs/{{s['uuid']}}">{{s['name']}}</a>
    <span class="muted small">step {{s['chain_step']}} · {{f.duration(s['duration'])}}</span>
    % if s['state'] == 'failed' and s['last_error']:
    <p class="reason small">{{s['last_error']}}</p>
    % end
  </li>
% end
</ol>
