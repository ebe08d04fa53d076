"""Fixed-window counts per key in Django's cache (Redis: shared by every worker): the
tills' per-key API rate, and public forms that must not be hammered (the application
form, the rank check). One counter for all of them."""

from __future__ import annotations

import functools
import time

from django.core.cache import cache

# INCR, and EXPIRE the first time: one command, atomic on the server.
_COUNT_SCRIPT = "local n = redis.call('INCR', KEYS[1]) if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end return n"


@functools.lru_cache(maxsize=64)
def _counter(cache_client):
    # Django's Redis cache builds a new client object on every call; one per cache
    # client (writes all go to its first server, through a shared pool), with the script
    # registered once, spares each request (the till's hot path) that work.
    return cache_client.get_client(write=True).register_script(_COUNT_SCRIPT)


def hit(key: str, *, expire: int) -> int:
    """Count one more hit on `key` (kept `expire` seconds from its first hit) and return
    the count: one round trip to Redis, atomic whatever the number of workers."""
    return _counter(cache._cache)(keys=[cache.make_and_validate_key(key)], args=[expire])


def allow(scope: str, who: str, *, limit: int, window: int) -> bool:
    """One more hit of `who` on `scope` in the current window; False beyond `limit`."""
    return hit(f"rate:{scope}:{who}:{int(time.time() // window)}", expire=window + 5) <= limit
