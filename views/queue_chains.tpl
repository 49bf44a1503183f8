% rebase('base.tpl')
% include('_queue_nav.tpl')
% if not chains:
<div class="empty"><p>No chains yet. A chain is a series of jobs that run one after another: each paid order starts one (the payment, then its invoice, then the invoice email), and it shows here step by step.</p></div>
% else:
<div class="table-wrap">
<table class="list responsive queue-table chains">
  <thead><tr><th>Chain</th><th>Current step</th><th>Job</th><th>State</th><th>Started</th></tr></thead>
  <tbody>
  % for c in chains:
  <tr>
    <td data-label="Chain" class="cell-head"><a class="row-title mono" href="/admin/queue/chains/{{c['chain_id']}}">{{c['chain_id'][:8]}}</a></td>
    <td data-label="Current step">
      <progress max="{{c['total']}}" value="{{c['step'] if c['state'] == 'completed' else c['step'] - 1}}" aria-label="Steps done">{{c['step']}}/{{c['total']}}</progress>
      step {{c['step']}} of {{c['total']}}
    </td>
    <td data-label="Job" class="cell-wide"><a href="/admin/queue/jobs/{{c['current']['uuid']}}">{{c['current']['name']}}</a> <span class="badge badge-{{c['current']['state']}}">{{c['current']['state']}}</span></td>
    <td data-label="State"><span class="badge badge-{{c['state']}}">{{c['state']}}</span></td>
    <td data-label="Started">{{f.ago(c['started_at'])}}</td>
  </tr>
  % end
  </tbody>
</table>
</div>
% end
