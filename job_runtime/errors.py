"""The exceptions of the job runtime: those a job (or its middleware) raises on
purpose, and those the runtime records when an attempt ends badly."""


class Release(Exception):
    """Put the job back on its queue after `delay` seconds; not counted as an exception."""

    def __init__(self, delay=0, reason="released"):
        super().__init__(reason)
        self.delay = delay


class Fail(Exception):
    """Fail the job now, without further attempts."""


class JobTimeout(Exception):
    """The attempt ran past the job's timeout and was stopped."""


class WorkerLost(Exception):
    """The worker running the attempt stopped (killed, crashed or its host went away)."""


class MaxAttemptsExceeded(Exception):
    """The job has used up its attempts."""
