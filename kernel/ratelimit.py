"""A fixed-window count per key in Django's cache (Redis: shared by every worker), for
public forms that must not be hammered (the application form, the rank check)."""

from __future__ import annotations

import time

from django.core.cache import cache


def client_ip(request) -> str:
    """The client's address as the sign-in's own rate limits see it (allauth's, which
    follows the trusted proxy settings), so that every limit counts the same clients."""
    from allauth.account.adapter import get_adapter

    return get_adapter(request).get_client_ip(request)


def allow(scope: str, who: str, *, limit: int, window: int) -> bool:
    """Count one more hit of `who` on `scope` in the current window; False beyond `limit`.
    add then incr: both atomic on Redis, so concurrent workers never lose a hit."""
    key = f"rate:{scope}:{who}:{int(time.time() // window)}"
    cache.add(key, 0, timeout=window + 5)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between the two calls
        cache.add(key, 1, timeout=window + 5)
        count = 1
    return count <= limit
