"""The retry policy alone: every retry decision of the runtime, without a database or a queue."""

import datetime

import pytest

from job_runtime import RetryPolicy

NOW = datetime.datetime(2026, 3, 14, 10, 0, 0)


def test_backoff_is_indexed_by_attempt_and_its_last_value_repeats():
    policy = RetryPolicy(tries=9, backoff=[10, 30, 60])
    assert [policy.backoff_for(n) for n in range(1, 6)] == [10, 30, 60, 60, 60]
    assert RetryPolicy(backoff=7).backoff_for(3) == 7
    assert RetryPolicy().backoff_for(1) == 0


def test_a_policy_is_a_frozen_value():
    assert RetryPolicy(tries=3, backoff=[1, 2]) == RetryPolicy(tries=3, backoff=(1, 2))
    with pytest.raises(AttributeError):
        RetryPolicy().tries = 2
    with pytest.raises(ValueError, match="tries must be at least 1"):
        RetryPolicy(tries=0)


def test_an_exception_is_retried_until_the_tries_are_used():
    policy = RetryPolicy(tries=3, backoff=[10, 30])
    assert policy.retry_delay(attempts=1, lost=0, exceptions=1, deadline=None, now=NOW) == 10
    assert policy.retry_delay(attempts=2, lost=0, exceptions=2, deadline=None, now=NOW) == 30
    assert policy.retry_delay(attempts=3, lost=0, exceptions=3, deadline=None, now=NOW) is None


def test_attempts_cut_short_by_a_dead_worker_do_not_count_against_tries():
    policy = RetryPolicy(tries=2)
    assert policy.retry_delay(attempts=3, lost=2, exceptions=1, deadline=None, now=NOW) == 0
    assert policy.retry_delay(attempts=4, lost=2, exceptions=2, deadline=None, now=NOW) is None


def test_max_exceptions_fails_the_job_whatever_tries_are_left():
    policy = RetryPolicy(tries=10, max_exceptions=2)
    assert policy.retry_delay(attempts=1, lost=0, exceptions=1, deadline=None, now=NOW) == 0
    assert policy.retry_delay(attempts=5, lost=0, exceptions=2, deadline=None, now=NOW) is None


def test_retry_until_replaces_tries_with_a_deadline():
    policy = RetryPolicy(tries=1, backoff=[20], retry_until=60)
    deadline = policy.deadline(NOW)
    assert deadline == NOW + datetime.timedelta(seconds=60)
    assert RetryPolicy().deadline(NOW) is None
    # Many attempts, but the next one would still start before the deadline.
    assert policy.retry_delay(attempts=7, lost=0, exceptions=7, deadline=deadline, now=NOW) == 20
    # The next attempt would start after it.
    later = NOW + datetime.timedelta(seconds=45)
    assert policy.retry_delay(attempts=8, lost=0, exceptions=8, deadline=deadline, now=later) is None


def test_an_attempt_is_refused_past_its_tries_or_its_deadline():
    policy = RetryPolicy(tries=2)
    assert policy.refusal(attempts=2, lost=0, deadline=None, now=NOW) is None
    assert policy.refusal(attempts=3, lost=1, deadline=None, now=NOW) is None
    assert "too many times (3)" in policy.refusal(attempts=3, lost=0, deadline=None, now=NOW)
    deadline = NOW + datetime.timedelta(seconds=1)
    assert policy.refusal(attempts=9, lost=0, deadline=deadline, now=NOW) is None
    assert "retry_until" in policy.refusal(attempts=1, lost=0, deadline=deadline,
                                           now=deadline + datetime.timedelta(seconds=1))


def test_a_job_that_keeps_losing_its_worker_fails_at_the_lost_limit():
    policy = RetryPolicy(max_lost=3)
    assert not policy.fails_when_lost(0)
    assert not policy.fails_when_lost(1)
    assert policy.fails_when_lost(2)


def test_the_lost_limit_defaults_to_the_runtimes_setting():
    from job_runtime import context

    limit = context.state.settings.max_lost
    assert RetryPolicy().lost_limit() == limit
    assert not RetryPolicy().fails_when_lost(limit - 2)
    assert RetryPolicy().fails_when_lost(limit - 1)
