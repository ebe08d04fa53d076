"""One value many processes read and few change (the fund's settings), in Redis under
one key with its version. A write is kept only if its version is newer than the one the
key holds, in one atomic script: two changes that commit in one order, or a reader that
fills the key with what it read just before a change committed, can never leave the
older value there. The key does not expire: a page never finds it cold by chance."""

from __future__ import annotations

import functools
import json

from django.core.cache import cache

_PUBLISH_SCRIPT = """
local current = redis.call('GET', KEYS[1])
if current then
  local version = tonumber(string.match(current, '^(%d+):'))
  if version and version >= tonumber(ARGV[1]) then return 0 end
end
redis.call('SET', KEYS[1], ARGV[1] .. ':' .. ARGV[2])
return 1
"""


@functools.lru_cache(maxsize=64)
def _publisher(cache_client):
    # As kernel.ratelimit: one registered script per cache client.
    return cache_client.get_client(write=True).register_script(_PUBLISH_SCRIPT)


@functools.lru_cache(maxsize=64)
def _reader(cache_client):
    # Django's Redis cache builds a client object on every call: one kept per cache client
    # (its connection pool is shared), as for the script above.
    return cache_client.get_client(write=False)


def publish(key: str, version: int, value: dict) -> bool:
    """Keep `value` under `key` unless the key holds a version as new or newer; True if kept."""
    full_key = cache.make_and_validate_key(key)
    return bool(_publisher(cache._cache)(keys=[full_key], args=[int(version), json.dumps(value)]))


def replace(key: str, version: int, value: dict) -> None:
    """Keep `value` under `key` whatever it held (a restored database's older version)."""
    full_key = cache.make_and_validate_key(key)
    cache._cache.get_client(full_key, write=True).set(full_key, f"{int(version)}:{json.dumps(value)}")


def read(key: str) -> tuple[int, dict] | None:
    """(version, value) under `key`, or None when the key holds nothing (Redis emptied)."""
    full_key = cache.make_and_validate_key(key)
    raw = _reader(cache._cache).get(full_key)
    if raw is None:
        return None
    version, _sep, text = raw.decode().partition(":")
    return int(version), json.loads(text)
