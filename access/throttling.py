"""Per-key rate limits (429 with Retry-After).

A sliding window: a request is allowed while fewer than N requests of the same key were allowed
in the last `window` seconds. The rate comes from `ACCESS_API_RATE` (default 600/min), read on
each request so tests and operators can change it.

With `REDIS_URL` set, every web process shares one window per key, kept in a sorted set and
checked and updated by one Lua script, so concurrent requests cannot both take the last slot.
(DRF's SimpleRateThrottle reads the history, appends and writes it back: with eight concurrent
callers, 320 of 320 requests passed a 100/min limit.) Redis's own clock times the window, so web
hosts with different clocks agree. Without Redis (development) the window lives in this process.
"""

import threading
import time
import uuid
from collections import deque

from django.conf import settings
from rest_framework.throttling import BaseThrottle

# KEYS[1]: the key's window. ARGV: window length (ms), limit, a unique member for this request.
# Returns -1 when the request is allowed, else the milliseconds until the oldest entry leaves.
_SLIDING_WINDOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window, limit = tonumber(ARGV[1]), tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < limit then
    redis.call('ZADD', KEYS[1], now, ARGV[3])
    redis.call('PEXPIRE', KEYS[1], window)
    return -1
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return math.max(tonumber(oldest[2]) + window - now, 1)
"""


class RedisWindows:
    def __init__(self, url: str):
        import redis

        self._script = redis.Redis.from_url(url).register_script(_SLIDING_WINDOW)

    def hit(self, key: str, limit: int, window_s: int) -> float | None:
        """None if allowed, else seconds until a request would be."""
        wait_ms = self._script(keys=[key], args=[window_s * 1000, limit, uuid.uuid4().hex])
        return None if wait_ms < 0 else wait_ms / 1000


class LocalWindows:
    def __init__(self):
        self._lock = threading.Lock()
        self._windows: dict[str, deque] = {}

    def hit(self, key: str, limit: int, window_s: int) -> float | None:
        now = time.monotonic()
        with self._lock:
            window = self._windows.setdefault(key, deque())
            while window and window[0] <= now - window_s:
                window.popleft()
            if len(window) < limit:
                window.append(now)
                return None
            return max(window[0] + window_s - now, 0.001)


_windows = {}
_windows_lock = threading.Lock()


def rate_windows():
    url = getattr(settings, "REDIS_URL", "")
    with _windows_lock:
        if url not in _windows:
            _windows[url] = RedisWindows(url) if url else LocalWindows()
        return _windows[url]


_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """'600/min' -> (600, 60): DRF's notation (the period's first letter counts)."""
    count, _, period = (rate or "").partition("/")
    if not count.strip().isdigit() or int(count) < 1 or period.strip()[:1] not in _PERIODS:
        raise ValueError(f"ACCESS_API_RATE must look like 600/min (requests per s, min, hour or day), not {rate!r}")
    return int(count), _PERIODS[period.strip()[0]]


def check_rate_setting(app_configs=None, **kwargs):
    """System check: a malformed ACCESS_API_RATE stops the start, instead of failing every request."""
    from django.core import checks

    try:
        parse_rate(getattr(settings, "ACCESS_API_RATE", "600/min"))
    except ValueError as exc:
        return [checks.Error(str(exc), id="access.E001")]
    return []


class ApiKeyRateThrottle(BaseThrottle):
    def allow_request(self, request, view):
        limit, window_s = parse_rate(getattr(settings, "ACCESS_API_RATE", "600/min"))
        self._wait = rate_windows().hit(f"access-throttle:{self.ident(request)}", limit, window_s)
        return self._wait is None

    def wait(self):
        return self._wait

    def ident(self, request) -> str:
        # One budget per key; session users (docs) get one per user.
        if request.auth is not None and hasattr(request.auth, "prefix"):
            return f"key:{request.auth.prefix}"
        if request.user and request.user.is_authenticated:
            return f"user:{request.user.pk}"
        return f"anon:{self.get_ident(request)}"
