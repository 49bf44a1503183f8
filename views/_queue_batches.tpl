% include('_queue_batch_list.tpl', batches=o['batches'], next_url=next_url, empty='No batch is running.', compact=True)
