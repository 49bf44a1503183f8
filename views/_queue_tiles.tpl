% t = o['tiles']
% status_labels = {'running': 'Running', 'paused': 'Paused', 'inactive': 'Inactive'}
<div class="tiles">
  <div class="tile">
    <p class="tile-label">Jobs per minute</p>
    <p class="tile-value">{{f.number(t['jobs_per_minute'])}}</p>
    <p class="tile-note">finished in the last minute</p>
  </div>
  <div class="tile">
    <p class="tile-label">Jobs past hour</p>
    <p class="tile-value">{{f.number(t['jobs_past_hour'])}}</p>
    <p class="tile-note">completed or failed</p>
  </div>
  <div class="tile{{' tile-bad' if t['failed_past_7_days'] else ''}}">
    <p class="tile-label">Failed past 7 days</p>
    <p class="tile-value">{{f.number(t['failed_past_7_days'])}}</p>
    <p class="tile-note"><a href="/admin/queue/failed">{{f.number(t['failed_stored'])}} in the failed store</a></p>
  </div>
  <div class="tile tile-status-{{t['status']}}">
    <p class="tile-label">Status</p>
    <p class="tile-value"><span class="status-dot" aria-hidden="true"></span>{{status_labels[t['status']]}}</p>
    <p class="tile-note">{{('paused: ' + ', '.join(t['paused_queues'])) if t['paused_queues'] else ('no worker is running' if t['status'] == 'inactive' else 'every queue is taking jobs')}}</p>
  </div>
  <div class="tile{{' tile-bad' if not t['workers_alive'] else ''}}">
    <p class="tile-label">Workers alive</p>
    <p class="tile-value">{{t['workers_alive']}}</p>
    <p class="tile-note">{{t['processes_alive']}} process{{'' if t['processes_alive'] == 1 else 'es'}} on {{t['hosts_alive']}} host{{'' if t['hosts_alive'] == 1 else 's'}}</p>
  </div>
  <div class="tile">
    <p class="tile-label">Longest wait</p>
    % if t['longest_wait']:
    <p class="tile-value">{{f.duration(t['longest_wait']['seconds'])}}</p>
    <p class="tile-note">on the {{t['longest_wait']['queue']}} queue</p>
    % else:
    <p class="tile-value">—</p>
    <p class="tile-note">nothing is waiting</p>
    % end
  </div>
  <div class="tile">
    <p class="tile-label">Slowest job</p>
    % if t['slowest_job']:
    <p class="tile-value tile-name">{{!f.breakable(t['slowest_job']['name'])}}</p>
    <p class="tile-note">{{f.duration(t['slowest_job']['avg_duration'])}} on average this hour</p>
    % else:
    <p class="tile-value">—</p>
    <p class="tile-note">no job finished this hour</p>
    % end
  </div>
  <div class="tile">
    <p class="tile-label">Busiest job</p>
    % if t['busiest_job']:
    <p class="tile-value tile-name">{{!f.breakable(t['busiest_job']['name'])}}</p>
    <p class="tile-note">{{f.number(t['busiest_job']['processed'])}} run{{'' if t['busiest_job']['processed'] == 1 else 's'}} this hour</p>
    % else:
    <p class="tile-value">—</p>
    <p class="tile-note">no job finished this hour</p>
    % end
  </div>
</div>
