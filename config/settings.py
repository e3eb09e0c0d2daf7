"""One env-driven settings module (DESIGN.md section 6).

Without any variable set the app runs on SQLite under ./var/, writes email to ./var/mail/
and shows Stripe as not configured. With DEBUG off it refuses to start without SECRET_KEY.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from pathlib import Path

import dj_database_url
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return default if value is None or value == "" else value


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (true/false), got {value!r}")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be an integer, got {value!r}") from exc


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


DEBUG = env_bool("DEBUG", default=False)
# Under pytest the test settings apply without any variable set.
TESTING = env_bool("CLIENTLEDGER_TESTING", default="pytest" in sys.modules)
EMBEDDED = env_bool("CLIENTLEDGER_EMBEDDED", default=False)
VAR_DIR = Path(env_str("CLIENTLEDGER_VAR_DIR", str(BASE_DIR / "var")) or BASE_DIR / "var")


def embedded_secret_key(path: Path) -> str:
    """The single-machine mode keeps a random key in ./var so sessions survive restarts."""
    if not path.exists():
        import secrets

        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


_secret_key = env_str("SECRET_KEY")
if _secret_key is None:
    if EMBEDDED:
        _secret_key = embedded_secret_key(VAR_DIR / "secret_key")
    elif DEBUG or TESTING:
        _secret_key = "insecure-development-key-never-used-in-production"
    else:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set when DEBUG is off (make run and the clientledger command "
            "keep one under ./var)."
        )
SECRET_KEY: str = _secret_key

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "template_partials",
    "django_htmx",
    "csp",
    "ninja",
    "axes",
    "clientledger.core",
    "clientledger.accounts",
    "clientledger.catalog",
    "clientledger.lines",
    "clientledger.crm",
    "clientledger.billing",
    "clientledger.payments",
    "clientledger.recurring",
    "clientledger.receivables",
    "clientledger.notifications",
    "clientledger.portal",
    "clientledger.jobs",
    "clientledger.reporting",
    "clientledger.demo",
]

MIDDLEWARE = [
    # First, so that every error answer under /api/ (also other middleware's) is JSON.
    "clientledger.api.middleware.ApiJsonErrorsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "clientledger.accounts.middleware.MembershipMiddleware",
    "clientledger.accounts.middleware.SessionIdleMiddleware",
    "clientledger.accounts.middleware.PrivatePagesMiddleware",
    "clientledger.core.errors.MethodNotAllowedMiddleware",
    # Last, so that it turns a login locked out further in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "clientledger" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "clientledger.accounts.context_processors.membership",
                "clientledger.payments.context_processors.stripe_mode",
            ],
            # Replaces Django's `date` filter with one that parses each format once.
            "builtins": ["clientledger.core.templatetags.dates"],
        },
    }
]

_sqlite_path = VAR_DIR / "clientledger.sqlite3"
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{_sqlite_path}") or "",
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
        # A reused connection is checked (SELECT 1) before a request's first query, so a
        # database restart costs no failed request. Measured on the API list (issue 14):
        # ~0.1 ms of CPU, app and database together, under 1% of the request: kept.
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Django's backend, reading timestamps through psycopg's C loader (core/postgresql/base.py).
    DATABASES["default"]["ENGINE"] = "clientledger.core.postgresql"
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Django's backend, converting each statement's placeholders once (core/sqlite/base.py).
    DATABASES["default"]["ENGINE"] = "clientledger.core.sqlite"
    # In memory, as Django's default is: said outright, since pytest-django recognises that
    # default by Django's engine name alone (else it names a file per xdist worker).
    DATABASES["default"].setdefault("TEST", {}).setdefault("NAME", ":memory:")
    # WAL lets the background runner write while pages read; IMMEDIATE avoids
    # "database is locked" upgrades inside write transactions.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0

# A shared cache (Redis) keeps the portal's rate limits exact across processes and machines;
# without it each web process counts on its own and grants its share of each limit.
REDIS_URL = env_str("REDIS_URL")
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
# django-axes refuses a sign-in before the password is even checked once an email address has
# failed too often from one IP address (clientledger/accounts/throttling.py); Django's
# ModelBackend checks the password.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = dt.timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# The login form posts the email address as "username" (Django's AuthenticationForm).
AXES_USERNAME_FORM_FIELD = "username"
AXES_RESET_ON_SUCCESS = True
# Attempts during a lockout neither extend it nor count again: it ends when it said it would.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_CLIENT_IP_CALLABLE = "clientledger.core.http.client_ip"
AXES_LOCKOUT_CALLABLE = "clientledger.accounts.throttling.login_locked_out"
# Lockouts are audited; a row per successful sign-in would only grow.
AXES_DISABLE_ACCESS_LOG = True
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    # OWASP ASVS level 2 (2.1.1): at least 12 characters.
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if TESTING:
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG or TESTING
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
MEDIA_ROOT = VAR_DIR / "media"
MEDIA_URL = "/media/"
WHITENOISE_USE_FINDERS = DEBUG or TESTING
# Files browsers expect at the site root (favicon.ico), served by whitenoise as they are.
WHITENOISE_ROOT = BASE_DIR / "public"

EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if env_str("EMAIL_HOST")
    else "django.core.mail.backends.filebased.EmailBackend",
)
EMAIL_FILE_PATH = VAR_DIR / "mail"
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "") or ""
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "") or ""
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "ClientLedger <billing@localhost>")

# Every agency without keys of its own uses these; without any, Stripe is "not configured".
STRIPE_SECRET_KEY = env_str("STRIPE_SECRET_KEY", "") or ""
STRIPE_PUBLISHABLE_KEY = env_str("STRIPE_PUBLISHABLE_KEY", "") or ""
STRIPE_WEBHOOK_SECRET = env_str("STRIPE_WEBHOOK_SECRET", "") or ""
# Tests point the SDK at a local fake Stripe server.
STRIPE_API_BASE = env_str("STRIPE_API_BASE", "https://api.stripe.com") or ""


def local_site_url(host: str, port: int) -> str:
    """Where `make run` (HOST, PORT) is reached from this machine: a wildcard address means
    every interface, so links name the loopback one."""
    shown = "127.0.0.1" if host in ("", "0.0.0.0", "::") else host
    if ":" in shown and not shown.startswith("["):
        shown = f"[{shown}]"
    return f"http://{shown}:{port}"


# Absolute links in emails, portal links and the Stripe webhook URL.
SITE_URL = (
    env_str("SITE_URL") or local_site_url(env_str("HOST", "127.0.0.1") or "", env_int("PORT", 8000))
).rstrip("/")
RUNNER_INTERVAL_SECONDS = env_int("RUNNER_INTERVAL_SECONDS", 30)


def usable_cores() -> int:
    """The cores this process may run on (a container's CPU set, not the host's count)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


# `clientledger run` (config/gunicorn.py): one worker process per core, since a Python process
# computes on one core at a time; its threads overlap the waits on the database.
WEB_CONCURRENCY = max(1, env_int("WEB_CONCURRENCY", usable_cores()))
WEB_THREADS = max(1, env_int("WEB_THREADS", 4))

# Celery when one machine is outgrown (clientledger/jobs/celery_app.py): with a broker, beat
# triggers every sweep each RUNNER_INTERVAL_SECONDS and `clientledger worker` processes run
# them; without one, the embedded runner thread of `clientledger run` does.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL")
# Installations (or test runs) sharing one Redis keep apart by queue name.
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_QUEUE", "clientledger")
# The work is in the database, not in the message: a lost task is found again by the next
# sweep, so messages are acknowledged on receipt and no result is kept.
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_EXPIRES = None
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
# PDFs and SMTP take long: a worker process reserves one task at a time, so idle workers
# get the rest.
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_IMPORTS = ["clientledger.jobs.tasks"]

if CELERY_BROKER_URL and env_bool("RUN_EMBEDDED_RUNNER", default=False):
    raise ImproperlyConfigured(
        "RUN_EMBEDDED_RUNNER and CELERY_BROKER_URL are both set: with a broker, Celery beat "
        "and workers run the sweeps; unset RUN_EMBEDDED_RUNNER."
    )
RUN_EMBEDDED_RUNNER = not CELERY_BROKER_URL and env_bool("RUN_EMBEDDED_RUNNER", default=EMBEDDED)

# A signed-in session ends after this long without a request (each request pushes it on).
SESSION_COOKIE_AGE = env_int("SESSION_IDLE_TIMEOUT_MINUTES", 12 * 60) * 60
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# HTTPS hardening is on unless running locally (DEBUG, tests, or the embedded make run).
_https = env_bool("HTTPS", default=not (DEBUG or TESTING or EMBEDDED))
SESSION_COOKIE_SECURE = _https
CSRF_COOKIE_SECURE = _https
SECURE_SSL_REDIRECT = _https and env_bool("SECURE_SSL_REDIRECT", default=True)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000 if _https else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = _https
SECURE_HSTS_PRELOAD = _https
# Every script and stylesheet is a static file of this site (static/vendor/VERSIONS.md); the
# few <style> blocks carrying an agency's brand colour have the response's nonce. The portal's
# Pay now form is redirected to Stripe Checkout, which form-action must allow.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "style-src": [SELF, NONCE],
        # Tabler draws its form controls' icons as data: SVGs.
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
        "form-action": [SELF, "https://checkout.stripe.com"],
    }
}
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("BEHIND_PROXY", default=False) else None
)

NINJA_PAGINATION_PER_PAGE = 50

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "permission_denied": {"()": "clientledger.core.errors.PermissionDeniedWithoutTraceback"}
    },
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    # The Stripe SDK logs every request at INFO; our own warnings say what went wrong.
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "stripe": {"level": "WARNING"},
        "django.request": {"filters": ["permission_denied"]},
        # django-axes logs every sign-in at INFO; failures and lockouts are warnings.
        "axes": {"level": "WARNING"},
    },
}
