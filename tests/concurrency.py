"""Requests sent at once to a served shop (live_app): each thread waits at a barrier, so the
shop sees them together, as it would a crowd redeeming the last use of a code."""

import threading
import urllib.error
import urllib.request


def send_at_once(requests, timeout=90):
    """Open every urllib Request in `requests` at the same moment; returns [(status, body)]."""
    barrier = threading.Barrier(len(requests))
    answers = [None] * len(requests)

    def send(number, request):
        barrier.wait()
        try:
            with urllib.request.urlopen(request, timeout=timeout) as answer:
                answers[number] = (answer.status, answer.read())
        except urllib.error.HTTPError as error:
            answers[number] = (error.code, error.read())

    threads = [threading.Thread(target=send, args=pair) for pair in enumerate(requests)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout + 10)
    return answers
