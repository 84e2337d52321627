"""The per-key sliding window behind 429: exact under concurrency, with a truthful Retry-After.

The Redis window is tested against the real Redis when REDIS_URL is set (CI); the in-process
window, used in development without Redis, is tested everywhere.
"""

import threading
import time
import uuid

import pytest
from django.conf import settings

from access.throttling import LocalWindows, RedisWindows, check_rate_setting, parse_rate


def _backends():
    backends = [pytest.param(LocalWindows, id="local")]
    url = getattr(settings, "REDIS_URL", "")
    redis_param = pytest.param(lambda: RedisWindows(url), id="redis")
    if not url:
        redis_param = pytest.param(None, id="redis", marks=pytest.mark.skip(reason="REDIS_URL is not set"))
    return [*backends, redis_param]


@pytest.mark.parametrize("make", _backends())
def test_concurrent_callers_never_get_more_than_the_limit(make):
    windows, key = make(), f"test:{uuid.uuid4().hex}"
    allowed, start = [], threading.Barrier(8)

    def caller():
        start.wait()
        for _ in range(40):
            if windows.hit(key, 100, 60) is None:
                allowed.append(1)

    threads = [threading.Thread(target=caller) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(allowed) == 100  # of 320 attempts
    assert windows.hit(f"test:{uuid.uuid4().hex}", 100, 60) is None  # another key has its own budget


@pytest.mark.parametrize("make", _backends())
def test_it_says_when_to_retry_and_lets_the_caller_in_then(make):
    windows, key = make(), f"test:{uuid.uuid4().hex}"
    assert windows.hit(key, 2, 1) is None
    time.sleep(0.3)
    assert windows.hit(key, 2, 1) is None
    wait = windows.hit(key, 2, 1)
    assert wait is not None and 0.5 < wait <= 0.7  # until the first request is a second old
    time.sleep(wait + 0.05)
    assert windows.hit(key, 2, 1) is None  # the oldest request left the window
    assert windows.hit(key, 2, 1) is not None  # the second is still in it


def test_refused_requests_do_not_use_up_the_budget(monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr("access.throttling.time.monotonic", lambda: clock[0])
    windows = LocalWindows()
    assert [windows.hit("k", 1, 60) is None for _ in range(3)] == [True, False, False]
    assert windows.hit("k", 1, 60) == pytest.approx(60)
    clock[0] += 60
    assert windows.hit("k", 1, 60) is None  # a full window after the one allowed request, not after the refusals


def test_it_reads_drf_rates_and_names_a_bad_one():
    assert parse_rate("600/min") == (600, 60)
    assert parse_rate("5/s") == (5, 1)
    assert parse_rate("1000/hour") == (1000, 3600)
    for bad in ("", "600", "0/min", "x/min", "600/week"):
        with pytest.raises(ValueError, match="ACCESS_API_RATE"):
            parse_rate(bad)


def test_a_malformed_rate_stops_the_start(settings):
    settings.ACCESS_API_RATE = "600 per minute"
    [error] = check_rate_setting()
    assert error.id == "access.E001" and "600 per minute" in error.msg
    settings.ACCESS_API_RATE = "600/min"
    assert check_rate_setting() == []
