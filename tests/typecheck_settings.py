"""Settings for mypy's Django plugin (`make test` runs mypy before the suite): the plugin
imports the settings and connects to nothing, so placeholder URLs stand in where none is
set, and no embedded engine is started for it."""

import os

os.environ.setdefault("DATABASE_URL", "postgres:///typecheck")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")
os.environ.setdefault("SECRET_KEY", "typecheck-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz")
for _name in ("PIN_HASH_KEY", "ACTIVATION_CODE_KEY", "REPORT_DIGEST_KEY", "RESEARCH_PSEUDONYM_KEY"):
    os.environ.setdefault(_name, f"typecheck-only-{_name.lower()}")

from caisse.settings import *  # noqa: E402,F403
