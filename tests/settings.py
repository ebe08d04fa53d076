"""Settings for the test suite: the real settings, with local PostgreSQL and Redis by default."""

import os

os.environ.setdefault("DATABASE_URL", "postgres:///caisse")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")
os.environ.setdefault("SECRET_KEY", "tests-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz")
# Playwright's sync API runs an event loop in the test thread, beside the ORM.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from caisse.settings import *  # noqa: E402,F403

# Hashing passwords at full strength would dominate the suite's time; login itself is
# still tested through the real authentication path.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# The live server of browser tests speaks plain HTTP.
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = False
