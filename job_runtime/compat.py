"""Every private attribute of Huey and peewee that the runtime touches, in one place.

Each function here has a test in the runtime's tests (test_compat.py), so an
upgrade of either library that renames one of them fails one clear test rather
than a consumer in production.
"""

import threading


def forget_pool_connections(database):
    """In a forked child: drop the parent's pooled connections without touching them.

    The child inherits the pool's lock and its list of connections; using or
    closing the parent's sockets would break the parent's, so the pool starts empty.
    """
    if not hasattr(database, "_pool_lock"):
        return
    database._pool_lock = threading.RLock()
    database._pool_available = threading.Condition(database._pool_lock)
    database.dispose()
