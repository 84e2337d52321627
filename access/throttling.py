"""Per-key rate limits (429 with Retry-After).

Counted in Redis when `REDIS_URL` is set, so every web process shares one budget per key;
in process memory otherwise (development). The rate comes from `ACCESS_API_RATE`
(default 600/min), read on each request so tests and operators can change it.
"""

from functools import cached_property

from django.conf import settings
from django.core.cache.backends.locmem import LocMemCache
from rest_framework.throttling import SimpleRateThrottle

_caches = {}


def throttle_cache():
    url = getattr(settings, "REDIS_URL", "")
    if url not in _caches:
        if url:
            from django.core.cache.backends.redis import RedisCache

            _caches[url] = RedisCache(url, {"KEY_PREFIX": "access-throttle"})
        else:
            _caches[url] = LocMemCache("access-throttle", {})
    return _caches[url]


class ApiKeyRateThrottle(SimpleRateThrottle):
    scope = "api_key"

    @cached_property
    def cache(self):
        return throttle_cache()

    def get_rate(self):
        return getattr(settings, "ACCESS_API_RATE", "600/min")

    def allow_request(self, request, view):
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def get_cache_key(self, request, view):
        # One budget per key; session users (docs) get one per user.
        if request.auth is not None and hasattr(request.auth, "prefix"):
            ident = f"key:{request.auth.prefix}"
        elif request.user and request.user.is_authenticated:
            ident = f"user:{request.user.pk}"
        else:
            ident = f"anon:{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}
