% include('_queue_job_rows.tpl', jobs=o['recent_jobs'], empty='No job has been dispatched yet.')
<p class="more-link"><a href="/admin/queue/jobs">All jobs →</a></p>
