% for alert in o['alerts']:
<div class="flash flash-warning queue-alert" role="alert"><strong>{{'Long wait' if alert['kind'] == 'wait' else 'Failure rate'}}:</strong> {{alert['summary']}}</div>
% end
