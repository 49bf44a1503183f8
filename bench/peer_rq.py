"""RQ with a no-op function, for bench/peers.py."""


def noop():
    pass
