"""Outgoing webhooks: the endpoints sellers and admins register, the events the shop
tells them, the signature on each body, the guard on where deliveries may go, and
the delivery of one event to one endpoint (a job with its retries)."""
