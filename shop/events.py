"""Domain events with queued listeners, such as a paid order's `PurchaseCompleted -> process_purchase`.

    PurchaseCompleted = Event("PurchaseCompleted")

    @PurchaseCompleted.listen(tries=3, timeout=120)      # in tasks.py: a job like any other
    def process_purchase(order_id): ...

    PurchaseCompleted.fire(order.id)                      # inside the transaction that paid the order

Firing dispatches every listener as a job, so each runs in the consumer with its
own retries, and (as with any dispatch) only after the caller's transaction has
committed. Listeners take ids, like every job.
"""

import logging

import job_runtime

log = logging.getLogger(__name__)


class Event:
    def __init__(self, name):
        self.name = name
        self.listeners = []

    def __repr__(self):
        return f"<Event {self.name}: {', '.join(job.name for job in self.listeners) or 'no listeners'}>"

    def listen(self, **job_options):
        """Declare a queued listener: a job (with these options) dispatched on every fire()."""

        def decorator(func):
            declared = job_runtime.job(**job_options)(func)
            self.listeners.append(declared)
            return declared

        return decorator

    def fire(self, *args, **kwargs):
        """Dispatch every listener with these arguments; returns the job uuids."""
        log.info("event %s fired with %s", self.name, args)
        return [listener.dispatch(*args, **kwargs) for listener in self.listeners]


# The events of the shop. Their listeners are declared in tasks.py.
PurchaseCompleted = Event("PurchaseCompleted")
OrderRefunded = Event("OrderRefunded")
