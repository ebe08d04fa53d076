"""Caisse settings, read from the environment (12-factor).

PostgreSQL (DATABASE_URL) and Redis (REDIS_URL: cache, Celery broker and results),
always. With nothing configured, `make run` starts embedded ones (caisse.embedded) and
passes their URLs on: the same code, for trying Caisse on one's own machine.
"""

import json
import os
import secrets
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)
DATA_DIR = Path(os.environ.get("CAISSE_DATA_DIR", BASE_DIR / "var"))
# `make run` (CAISSE_LOCAL_RUN=1): on this machine only, plain HTTP, a secret key kept in
# DATA_DIR unless SECRET_KEY is set. With embedded engines it also writes their URLs to
# DATA_DIR/engines.json while they run, so that `python manage.py ...` reaches them.
LOCAL_RUN = env_bool("CAISSE_LOCAL_RUN", False)
ENGINES_FILE = DATA_DIR / "engines.json"


def _engine_urls() -> tuple[str, str]:
    database, redis = os.environ.get("DATABASE_URL", ""), os.environ.get("REDIS_URL", "")
    if not (database and redis) and ENGINES_FILE.exists():
        running = json.loads(ENGINES_FILE.read_text())
        database, redis = database or running["database_url"], redis or running["redis_url"]
    missing = [name for name, value in (("DATABASE_URL", database), ("REDIS_URL", redis)) if not value]
    if missing:
        raise ImproperlyConfigured(
            f"{' and '.join(missing)} not set: Caisse runs on PostgreSQL and Redis. `make run` starts embedded ones "
            "when nothing is configured; otherwise set both (README: Configuration)."
        )
    return database, redis


DATABASE_URL, REDIS_URL = _engine_urls()


def _secret_key() -> str:
    key = os.environ.get("SECRET_KEY", "")
    if key:
        return key
    if not (DEBUG or LOCAL_RUN):
        raise ImproperlyConfigured("SECRET_KEY must be set (outside `make run`).")
    # For trying Caisse: a random key kept on disk, so sessions survive a restart.
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    key_file = DATA_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()

# PIN_HASH_KEY, ACTIVATION_CODE_KEY, REPORT_DIGEST_KEY, RESEARCH_PSEUDONYM_KEY: see "Keys apart" below.
CARD_NUMBER_PREFIX = os.environ.get("CARD_NUMBER_PREFIX", "9250")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

FUND_NAME = os.environ.get("FUND_NAME", "Caisse commune de l'alimentation")
FUND_UNIT_LABEL = os.environ.get("FUND_UNIT_LABEL", "MonA")
# The fund's bank account, for the SEPA files it sends its bank (vendors' reimbursements
# by credit transfer, contributions by direct debit) and the SEPA creditor identifier
# (ICS) its direct debits need. Empty: the files cannot be made, and the pages say so.
FUND_BANK_IBAN = os.environ.get("FUND_BANK_IBAN", "")
FUND_BANK_BIC = os.environ.get("FUND_BANK_BIC", "")
FUND_SEPA_CREDITOR_ID = os.environ.get("FUND_SEPA_CREDITOR_ID", "")
# The day of the month the contributions are collected by direct debit (moved to the
# earliest date the bank accepts when the file is made later than that).
SEPA_DD_COLLECTION_DAY = int(os.environ.get("SEPA_DD_COLLECTION_DAY", "5"))
# The association's books (coordination.books): the month its financial year starts (1:
# the calendar year) and its chart of accounts, whose French association defaults any key
# given here overrides, e.g. {"purchase": ("658000", "Charges diverses de gestion courante")}.
FINANCIAL_YEAR_START_MONTH = int(os.environ.get("FINANCIAL_YEAR_START_MONTH", "1"))
ACCOUNTING_CHART: dict = {}
# The fund's SIREN, which names the FEC file (SIRENFECAAAAMMJJ.txt).
FUND_SIREN = os.environ.get("FUND_SIREN", "")
# RESEARCH_PSEUDONYM_KEY (the research export's pseudonyms): see "Keys apart" below.

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.forms",  # its widget templates, for FORM_RENDERER below
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "users",
    "allocations",
    "members",
    "vendors",
    "governance",
    "operations",
    "coordination",
    "demo",
    "caisse",
    # The audit trail: PostgreSQL triggers record who changed what (coordination/audit).
    "pgtrigger",
    "pghistory",
    "coordination.audit",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "caisse.middleware.SessionMiddleware",  # the three caisse.middleware: not on /api/
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "caisse.middleware.AuthenticationMiddleware",
    # After authentication: the audit trail records the user behind each change.
    "coordination.audit.middleware.HistoryMiddleware",
    "caisse.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # No inline script, nothing from elsewhere; the camera for the terminal's scanner only.
    "caisse.middleware.CSPMiddleware",
    "caisse.middleware.PermissionsPolicyMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "users.middleware.RequireStaffMFAMiddleware",
]

ROOT_URLCONF = "caisse.urls"
WSGI_APPLICATION = "caisse.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "caisse.context_processors.fund",
                "users.context_processors.spaces",
            ],
        },
    },
]

# Widget templates through TEMPLATES, so that templates/ may override one (the admin's
# date-and-time widget labels each part: issue 19).
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"

# --- Database -------------------------------------------------------------------------
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60")))}
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    raise ImproperlyConfigured("DATABASE_URL must name a PostgreSQL database (postgres://...).")
DATABASES["default"]["ENGINE"] = "caisse.postgresql"  # health checks after idleness only
# Django turns psycopg's prepared statements off (its cursors bind parameters on the
# client and could not use them); the payment's statements, run through
# kernel.db.prepared_cursor, ask for them explicitly.
DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = 5

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "users.User"

# --- Cache, Celery --------------------------------------------------------------------
CACHE_KEY_PREFIX = os.environ.get("CACHE_KEY_PREFIX", "caisse")
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": CACHE_KEY_PREFIX,
    }
}
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = REDIS_URL

CELERY_TIMEZONE = os.environ.get("TIME_ZONE", "Europe/Paris")
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_RESULT_EXPIRES = 3600
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)

# --- Auth -----------------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    # User name, e-mail, phone number or card number, and a password.
    "users.backends.IdentifierBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
ACCOUNT_LOGIN_METHODS = {"username", "email"}
ACCOUNT_SIGNUP_FIELDS = ["email", "username*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "none"
# Limits that fit a fund (issue 17): a committee meeting on one Wi-Fi, or every member
# behind the reverse proxy (TRUSTED_PROXIES), signs in from one address. Each account
# still has 5 wrong passwords per 5 minutes, counted on the account whatever form of its
# identifier was typed (users.adapter); one address, 60 failures per 5 minutes.
ACCOUNT_RATE_LIMITS = {"login": "600/5m/ip", "login_failed": "60/5m/ip,5/5m/key"}
ACCOUNT_FORMS = {"login": "users.forms.LoginForm"}
ACCOUNT_ADAPTER = "users.adapter.AccountAdapter"
ACCOUNT_SESSION_REMEMBER = None
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
# The authenticator apps name the account by the fund's name as it is now (users.adapter).
MFA_ADAPTER = "users.adapter.MFAAdapter"
# Recovery codes are shown once, right after the set-up: they are for a lost phone.
MFA_RECOVERY_CODES_SHOW_ONCE = True
# Staff sessions (coordinators, desk volunteers) end after this long without a request:
# desk computers are shared. Closing the desk signs the volunteer out too.
STAFF_IDLE_TIMEOUT = int(os.environ.get("STAFF_IDLE_MINUTES", "20")) * 60
LOGIN_REDIRECT_URL = "/portal/"
LOGIN_URL = "account_login"

# --- I18n -----------------------------------------------------------------------------
LANGUAGE_CODE = os.environ.get("LANGUAGE_CODE", "fr")
LANGUAGES = [("fr", _("French")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = os.environ.get("TIME_ZONE", "Europe/Paris")
USE_I18N = True
USE_TZ = True

# --- Static files: all served by the application (no CDN) ------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
# The Docker image collects static files at build time (COLLECTED_STATIC=1) and serves
# hashed, compressed copies; elsewhere (make run, tests) they are served from the apps.
COLLECTED_STATIC = env_bool("COLLECTED_STATIC", False)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if COLLECTED_STATIC
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = not COLLECTED_STATIC
WHITENOISE_AUTOREFRESH = not COLLECTED_STATIC
WHITENOISE_MANIFEST_STRICT = False

# --- REST API -------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": [],
    "UNAUTHENTICATED_USER": None,
}
# The fund's caps and thresholds, in cents: only the first values of the fund's settings
# (allocations.fund; read once, when its row is made, then edited by coordinators on
# /coordination/fund/): the maximum for one purchase at the till, the optional cap per
# card, per vendor, per day (0: none), a coordinator's refund above which a second one
# must approve, one cash payment at a desk above which a coordinator must confirm, and a
# payment from one's own phone above which the PIN is asked.
FUND_INITIAL_LIMITS = {
    "max_purchase_cents": int(os.environ.get("MAX_PURCHASE_CENTS", "50000")),
    "daily_cap_per_card_cents": int(os.environ.get("DAILY_CAP_PER_CARD_CENTS", "0")),
    "refund_four_eyes_above_cents": int(os.environ.get("REFUND_FOUR_EYES_ABOVE_CENTS", "5000")),
    "desk_cash_ceiling_cents": int(os.environ.get("DESK_CASH_CEILING_CENTS", "20000")),
    "phone_pin_above_cents": int(os.environ.get("PHONE_PIN_ABOVE_CENTS", "2000")),
}
# Each API key's rate limit at the till (vendors.payments).
CAISSE_API_RATE_PER_MINUTE = int(os.environ.get("API_RATE_PER_MINUTE", "600"))
# Corrections (issue 15): a shop's emergency suspension lapses after this many days unless
# the committee confirms it (the refund and cash thresholds: FUND_INITIAL_LIMITS).
CAISSE_EMERGENCY_SUSPENSION_DAYS = int(os.environ.get("EMERGENCY_SUSPENSION_DAYS", "14"))
# Paying from one's own phone (issue 22, vendors.payment_requests): a shop's payment
# request lives this long (at most 180 s); the stalls' code of the day is derived with
# this key (the amount above which the PIN is asked: FUND_INITIAL_LIMITS).
CAISSE_PAYMENT_REQUEST_SECONDS = min(180, int(os.environ.get("PAYMENT_REQUEST_SECONDS", "180")))
CAISSE_STALL_CODE_KEY = os.environ.get("STALL_CODE_KEY", "") or SECRET_KEY
# A household drawn takes its place within this many days, or it passes on (issue 20);
# the public application form and rank check, per client address (and per number) an hour.
CAISSE_DAYS_TO_TAKE_A_PLACE = int(os.environ.get("DAYS_TO_TAKE_A_PLACE", "30"))
CAISSE_APPLICATIONS_PER_HOUR = int(os.environ.get("APPLICATIONS_PER_HOUR", "10"))
CAISSE_RANK_CHECKS_PER_HOUR = int(os.environ.get("RANK_CHECKS_PER_HOUR", "20"))
SPECTACULAR_SETTINGS = {
    "TITLE": "Caisse API",
    "DESCRIPTION": "The API of a caisse commune de l'alimentation: tills record purchases and refunds. Amounts are integers in cents.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- Content-Security-Policy and Permissions-Policy (every response) ------------------
# Scripts and styles come only from our own static files: an injected <script> or
# onclick="" does not run. The TOTP set-up shows its QR code as a data: image.
CONTENT_SECURITY_POLICY = {
    # The tills' JSON answers are never rendered as a page (nosniff): building the header
    # on each purchase would cost the till for nothing. The API's HTML pages keep it.
    "EXCLUDE_URL_PREFIXES": ["/api/v1/purchases", "/api/v1/refunds", "/api/v1/payment_requests"],
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "connect-src": [SELF],
        "font-src": [SELF],
        "media-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}
# The web terminal scans cards with the camera (the portal's own origin); nothing else may.
PERMISSIONS_POLICY = {
    "camera": "(self)", "microphone": "()", "geolocation": "()", "payment": "()", "usb": "()",
}

# --- Security (production) ------------------------------------------------------------
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not LOCAL_RUN)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", not LOCAL_RUN)
    CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "0" if LOCAL_RUN else "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "caisse@localhost")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}

# --- Data protection: how long personal data is kept, in days (members.privacy) --------
# A periodic task erases what is older. Money records are kept, without personal data.
CAISSE_RETENTION_DAYS = {
    "applications": int(os.environ.get("RETENTION_APPLICATIONS_DAYS", "365")),
    "exited_households": int(os.environ.get("RETENTION_EXITED_HOUSEHOLDS_DAYS", str(3 * 365))),
    "desk_actions": int(os.environ.get("RETENTION_DESK_ACTIONS_DAYS", str(2 * 365))),
    "notices": int(os.environ.get("RETENTION_NOTICES_DAYS", "365")),
}

# --- Running for years: backups, alarms, monitoring (operations/) ----------------------
# Backups: encrypted with this key (make one with `manage.py backup --new-key`); keep a
# copy of it away from the server, or the backups cannot be read when the server is lost.
BACKUP_ENCRYPTION_KEY = os.environ.get("BACKUP_ENCRYPTION_KEY", "")
BACKUP_DIR = Path(os.environ.get("BACKUP_DIR", DATA_DIR / "backups"))
# An S3-compatible bucket instead of the folder (needs boto3; credentials from AWS_* variables).
BACKUP_S3_BUCKET = os.environ.get("BACKUP_S3_BUCKET", "")
BACKUP_S3_PREFIX = os.environ.get("BACKUP_S3_PREFIX", "caisse")
BACKUP_S3_ENDPOINT_URL = os.environ.get("BACKUP_S3_ENDPOINT_URL", "")
BACKUP_KEEP_DAILY = int(os.environ.get("BACKUP_KEEP_DAILY", "14"))
BACKUP_KEEP_WEEKLY = int(os.environ.get("BACKUP_KEEP_WEEKLY", "8"))
BACKUP_KEEP_MONTHLY = int(os.environ.get("BACKUP_KEEP_MONTHLY", "12"))
# Where pg_dump/pg_restore of the server's major version are, when not in the usual places.
PG_BIN_DIR = os.environ.get("PG_BIN_DIR", "")
# Alarms go to every coordinator with an e-mail address, and to these.
ALARM_EMAILS = [e.strip() for e in os.environ.get("ALARM_EMAILS", "").split(",") if e.strip()]
# How late a periodic task may be before it is called overdue.
TASK_GRACE_MINUTES = int(os.environ.get("TASK_GRACE_MINUTES", "20"))
# The coordinators' dashboard also runs the dead-man check (it sees beat dead when no task can).
WATCH_ON_PAGES = env_bool("WATCH_ON_PAGES", True)
# The token of /status, for an external monitor; unset, /status answers 404.
STATUS_TOKEN = os.environ.get("STATUS_TOKEN", "")

# --- Keys apart, limits that fit a fund (issue 17) --------------------------------------
# SECRET_KEY signs sessions, CSRF tokens and password-reset links only, so it can be
# rotated: put the new one in SECRET_KEY and the old ones in SECRET_KEY_FALLBACKS (comma
# separated) until the sessions they signed have expired (README: Rotating keys).
SECRET_KEY_FALLBACKS = env_list("SECRET_KEY_FALLBACKS")
# The reverse proxies (addresses or networks, comma separated) whose X-Forwarded-For is
# believed for the client's address (kernel.web.client_address); empty: none, and the
# address is the connection's. Never list a network the public can send from.
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES")
# No 5xx from input (caisse.middleware.BadInputMiddleware, right after SecurityMiddleware):
# NUL bytes, bodies over the limit (413), numbers out of range, JSON nested too deep and
# Redis down get a clear 4xx or a 503. A body other than a file upload may have
# DATA_UPLOAD_MAX_MEMORY_SIZE bytes (Django's default, 2.5 MB); a file upload this many.
MAX_UPLOAD_BYTES = int(os.environ.get("MAX_UPLOAD_BYTES", str(20 * 1024 * 1024)))
MIDDLEWARE.insert(MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1,
                  "caisse.middleware.BadInputMiddleware")
# Under /api/ a refused CSRF check answers JSON like the rest of the API (caisse.views).
CSRF_FAILURE_VIEW = "caisse.views.csrf_failure"


def _own_key(name: str, purpose: str, derived: str) -> str:
    """A key of its own, from the environment; derived from SECRET_KEY only to try Caisse
    (DEBUG, `make run`) or in the tests, never in production."""
    value = os.environ.get(name, "")
    if value:
        return value
    if not (DEBUG or LOCAL_RUN):
        raise ImproperlyConfigured(
            f"{name} must be set in production (README: Keys). It must never change once set: {purpose}."
        )
    return f"{derived}:{SECRET_KEY}"


# PINs are stored as keyed hashes: a copy of the database alone does not let anyone try
# the 10 000 PINs. Changing this key makes every PIN wrong, so it is set once. Before
# issue 17 it was derived from SECRET_KEY: an installation upgrading without one sets
# PIN_HASH_KEY to "pin:" followed by its SECRET_KEY, and every PIN stays valid.
PIN_HASH_KEY = _own_key("PIN_HASH_KEY", "every card's PIN hash depends on it", "pin")
# Activation letters' codes are stored as keyed hashes (users.activation).
ACTIVATION_CODE_KEY = _own_key("ACTIVATION_CODE_KEY", "activation letters already sent depend on it", "activation")
# The digests that let a household find its own anonymous reports (members.reports).
REPORT_DIGEST_KEY = _own_key("REPORT_DIGEST_KEY", "households find their anonymous reports with it", "reports")
# The research export's pseudonymous household ids (coordination.research): stable from one
# export to the next while this key is kept, never reversible without it. Before it had its
# own, it was derived from SECRET_KEY: an installation upgrading sets it to "research:"
# followed by its SECRET_KEY, and the researchers' pseudonyms stay the same.
RESEARCH_PSEUDONYM_KEY = _own_key("RESEARCH_PSEUDONYM_KEY", "the research export's pseudonyms depend on it", "research")

SENTRY_DSN = os.environ.get("SENTRY_DSN", "")
if SENTRY_DSN:
    import sentry_sdk

    from caisse.sentry import scrub

    sentry_sdk.init(
        dsn=SENTRY_DSN,
        send_default_pii=False,
        before_send=scrub,
        environment=os.environ.get("SENTRY_ENVIRONMENT", "production"),
        traces_sample_rate=0,
    )
