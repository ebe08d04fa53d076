"""Settings for the test suite: the real settings, on the PostgreSQL and Redis of
DATABASE_URL and REDIS_URL (CI sets them to the machine's servers), or, where either is
not set, on embedded ones started here (caisse.embedded; data under var/test-engines/),
stopped when the run ends. Processes the tests start inherit the URLs."""

import atexit
import os
from pathlib import Path

if not (os.environ.get("DATABASE_URL") and os.environ.get("REDIS_URL")):
    from caisse import embedded

    _folder = Path(os.environ.get("CAISSE_TEST_ENGINES_DIR", Path(__file__).resolve().parent.parent / "var" / "test-engines"))
    embedded.check_writable(_folder)
    _engines = embedded.Engines()
    atexit.register(_engines.stop)
    if not os.environ.get("DATABASE_URL"):
        os.environ["DATABASE_URL"] = _engines.start_postgres(_folder / "postgres")
    if not os.environ.get("REDIS_URL"):
        os.environ["REDIS_URL"] = _engines.start_redis(_folder / "redis")
os.environ.setdefault("SECRET_KEY", "tests-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz")
# Keys of their own, as production has (caisse.settings: "Keys apart").
for _name in ("PIN_HASH_KEY", "ACTIVATION_CODE_KEY", "REPORT_DIGEST_KEY", "RESEARCH_PSEUDONYM_KEY"):
    os.environ.setdefault(_name, f"tests-only-{_name.lower()}-0123456789-abcdefghijklmnopqrstuvwxyz")
# Playwright's sync API runs an event loop in the test thread, beside the ORM.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from caisse.settings import *  # noqa: E402,F403

# Hashing passwords at full strength would dominate the suite's time; login itself is
# still tested through the real authentication path.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# The live server of browser tests speaks plain HTTP.
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = False

# Backups and the erasure journal of the tests go to a folder of their own.
import tempfile  # noqa: E402

BACKUP_DIR = Path(tempfile.mkdtemp(prefix="caisse-test-backups-"))
BACKUP_ENCRYPTION_KEY = "tPj6nJ2dHq3WQn3x1i3k5k7Yv0Qm2m1q8Zr5hE4c9aA="
# The suite's database is older than the beat schedule's intervals by the time it ends:
# the dead-man check on pages runs only in the tests about it.
WATCH_ON_PAGES = False

# The fund's bank account, as a deployment's environment gives it (allocations.fund reads
# these once, as the defaults of the fund's settings): settlement runs can be approved.
FUND_BANK_IBAN = "FR7630006000011234567890189"
FUND_BANK_BIC = "AGRIFRPPXXX"
FUND_SEPA_CREDITOR_ID = "FR12ZZZ123456"
