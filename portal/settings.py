"""Settings for Corsi PA, driven by environment variables.

With no environment at all this is the embedded default used by `make run`: SQLite under var/,
Celery tasks run in-process, e-mails written to var/mail/, a SECRET_KEY generated under var/.
With DEBUG off, values that production must choose have no default and fail at startup.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env")

VAR_DIR = Path(env("VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)
(VAR_DIR / "static").mkdir(exist_ok=True)

# Production unless told otherwise: `make run` and the tests set DEBUG=1.
DEBUG = env.bool("DEBUG", default=False)


def _required(name: str) -> str:
    """A value production must choose: without it, refuse to start and say what to do."""
    value = env.str(name, default="").strip()
    if not value:
        raise ImproperlyConfigured(
            f"{name} is not set. The portal runs in production mode (DEBUG off), where {name} "
            "has no default: set it in the environment or in .env (see .env.example). "
            "For development, set DEBUG=1 (as `make run` does)."
        )
    return value


def _development_secret_key() -> str:
    # Generated once per checkout so sessions survive restarts of `make run`.
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(64))
        path.chmod(0o600)
    return path.read_text().strip()


if DEBUG:
    SECRET_KEY = env("SECRET_KEY", default="") or _development_secret_key()
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
else:
    SECRET_KEY = _required("SECRET_KEY")
    ALLOWED_HOSTS = [host.strip() for host in _required("ALLOWED_HOSTS").split(",") if host.strip()]
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "crispy_forms",
    "crispy_bootstrap5",
    "axes",
    "csp",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "portal",
    "core",
    "accounts",
    "courses",
    "enrollment",
    "attendance",
    "questionnaire",
    "certificates",
    "privacy",
    "web",
    "api",
]

MIDDLEWARE = [
    # First, so that every log line of the request carries the client's address.
    "core.middleware.ClientAddressMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "core.middleware.PortalLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "core.middleware.StaffTwoFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_ratelimit.middleware.RatelimitMiddleware",
    # Last, so that it sees the outcome of the login view.
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # ModelBackend with the signed-in user's row cached (one query less per request).
    "accounts.backends.CachedModelBackend",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "core.context_processors.portal",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE transactions serialise writers on SQLite, which has no row locks: the embedded
    # default stays correct (if slower) under concurrent enrolments.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "courses:catalogue"
# Pages composed above the apps that lower apps' pages link to, named here so that no app
# reaches up to them: the secretariat's home (the apps' secretariat pages and the second factor
# lead back to it) and the privacy page (linked from the profile).
SECRETARIAT_HOME_URL = "web:secretariat"
PERSONAL_DATA_URL = "my_data"
LOGOUT_REDIRECT_URL = "courses:catalogue"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "it"
LANGUAGES = [("it", _("Italiano")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Rome"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = Path(env("MEDIA_ROOT", default=str(VAR_DIR / "media")))
MEDIA_URL = "/media/"  # never served publicly: files go out through permission-checked views
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# --- Redis, cache and Celery -------------------------------------------------------------------
REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "corsipa",
            "OPTIONS": {
                # While Redis is unreachable the cache reads as empty and writes nothing: pages,
                # sessions (cached_db) and the public-page cache cost speed, not availability.
                "IGNORE_EXCEPTIONS": True,
                "SOCKET_CONNECT_TIMEOUT": 1,
                "SOCKET_TIMEOUT": 1,
            },
        }
    }
    # Sessions read from Redis, written through to the database: one query less per request.
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# The parts of base.html that depend only on the language and the kind of visitor (menus,
# footer): rendered once per process. They change only with a deploy, which restarts processes,
# so a local-memory cache needs no invalidation and costs no network round-trip.
CACHES["fragments"] = {
    "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
    "LOCATION": "fragments",
}

# Log each cache call skipped while Redis is down (the error, never the key or the value).
DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
DJANGO_REDIS_LOGGER = "core.cache"

CELERY_BROKER_URL = REDIS_URL or "memory://localhost/"
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {
    # A task whose worker died is delivered again after this many seconds (acks_late).
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600),
    # How often a worker looks for such abandoned tasks: every interval × throttle seconds.
    "unacked_restore_interval": env.int("CELERY_UNACKED_RESTORE_INTERVAL", default=10),
    "unacked_restore_throttle": env.int("CELERY_UNACKED_RESTORE_THROTTLE", default=10),
    # Fail fast when Redis is down: pages keep working and the outbox keeps the work.
    "socket_connect_timeout": 2,
    "socket_timeout": 5,
}
CELERY_TIMEZONE = TIME_ZONE
ENROLLMENT_REMINDER_DAYS = env.int("ENROLLMENT_REMINDER_DAYS", default=3)
CELERY_BEAT_SCHEDULE: dict[str, dict] = {
    "send-reminders": {
        "task": "enrollment.tasks.send_reminders_task",
        "schedule": 60 * 60,
        "kwargs": {"days_before": ENROLLMENT_REMINDER_DAYS},
    },
    "flush-outbox": {"task": "enrollment.tasks.flush_outbox_task", "schedule": 5 * 60},
}

# --- E-mail ------------------------------------------------------------------------------------
EMAIL_URL = env("EMAIL_URL", default="")
if EMAIL_URL:
    vars().update(env.email_url("EMAIL_URL"))
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_BACKEND = env("EMAIL_BACKEND", default=EMAIL_BACKEND)
    EMAIL_FILE_PATH = Path(env("MAIL_DIR", default=str(VAR_DIR / "mail")))
# A stuck mail server must not hang a worker for ever.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=15)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Corsi PA <noreply@corsipa.example.org>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Organiser shown in the header, e-mails and certificates --------------------------------------
PORTAL_ORGANISER = env("PORTAL_ORGANISER", default="Città Metropolitana di Milano")
PORTAL_NAME = env("PORTAL_NAME", default="Corsi PA")
PORTAL_SECRETARIAT_EMAIL = env(
    "PORTAL_SECRETARIAT_EMAIL", default="segreteriaservizioformazione@cittametropolitana.mi.it"
)
# Shown on the contacts page when set.
PORTAL_SECRETARIAT_PHONE = env("PORTAL_SECRETARIAT_PHONE", default="")
PORTAL_SECRETARIAT_ADDRESS = env("PORTAL_SECRETARIAT_ADDRESS", default="")
# The accessibility statement, published through AgID's form (form.agid.gov.it); the site's
# page links to it. Empty: the page says it is being published.
ACCESSIBILITY_STATEMENT_URL = env("ACCESSIBILITY_STATEMENT_URL", default="")
# Accessibility reports (a name and an e-mail address) are deleted this long after they arrive.
ACCESSIBILITY_FEEDBACK_RETENTION_DAYS = env.int(
    "ACCESSIBILITY_FEEDBACK_RETENTION_DAYS", default=365
)

# --- Certificates -------------------------------------------------------------------------------
# Production: the organiser's qualified electronic seal (PKCS#12). Empty: a development CA and
# seal certificate are generated under PKI_DIR on first use (no legal value), in development
# only. Not read from the environment: with DEBUG off nothing can switch the toy CA back on.
SIGNING_P12_PATH = env("SIGNING_P12_PATH", default="")
CERTIFICATES_DEV_PKI = DEBUG
SIGNING_P12_PASSWORD = env("SIGNING_P12_PASSWORD", default="")
# Optional: the CA certificate published at /verify/ca.pem (default: the chain in the .p12).
SIGNING_CA_PEM_PATH = env("SIGNING_CA_PEM_PATH", default="")
PKI_DIR = Path(env("PKI_DIR", default=str(VAR_DIR / "pki")))
CERTIFICATES_ISSUE_PLACE = env("CERTIFICATES_ISSUE_PLACE", default="Milano")
# CAdES B-T: an RFC 3161 time-stamping authority stamps every signature. Empty: B-B only.
TSA_URL = env("TSA_URL", default="")
TSA_USERNAME = env("TSA_USERNAME", default="")  # HTTP basic, if the TSA asks for it
TSA_PASSWORD = env("TSA_PASSWORD", default="")
TSA_TIMEOUT = env.float("TSA_TIMEOUT", default=10.0)
# Optional: the TSA's CA (PEM); when set, verification requires tokens issued under it.
TSA_CA_PEM_PATH = env("TSA_CA_PEM_PATH", default="")
CELERY_BEAT_SCHEDULE["anonymise-inactive-accounts"] = {
    "task": "privacy.tasks.anonymise_inactive_accounts_task",
    "schedule": 24 * 60 * 60,
}
CELERY_BEAT_SCHEDULE["flush-certificate-outbox"] = {
    "task": "certificates.tasks.flush_certificate_outbox_task",
    "schedule": 5 * 60,
}
CELERY_BEAT_SCHEDULE["flush-accessibility-feedback"] = {
    "task": "web.tasks.flush_accessibility_feedback_task",
    "schedule": 5 * 60,
}
CELERY_BEAT_SCHEDULE["purge-old-accessibility-feedback"] = {
    "task": "web.tasks.purge_old_accessibility_feedback_task",
    "schedule": 24 * 60 * 60,
}
# Certificates issued while the TSA was down get their time-stamp later.
CELERY_BEAT_SCHEDULE["upgrade-certificates-to-bt"] = {
    "task": "certificates.tasks.upgrade_certificates_to_bt_task",
    "schedule": 15 * 60,
}
CELERY_BEAT_SCHEDULE["issue-due-certificates"] = {
    "task": "certificates.tasks.queue_due_certificates_task",
    "schedule": 60 * 60,
    "kwargs": {"within_days": 60},
}
# Hourly, so that no uploaded attendance file (personal data) is kept for more than 24 hours.
CELERY_BEAT_SCHEDULE["purge-stale-attendance-imports"] = {
    "task": "attendance.tasks.purge_stale_imports_task",
    "schedule": 60 * 60,
}
# Entries nobody scanned out of are closed at their session's end, within 15 minutes of it.
CELERY_BEAT_SCHEDULE["close-open-check-ins"] = {
    "task": "attendance.tasks.close_open_entries_task",
    "schedule": 15 * 60,
}

# --- Questionnaire -------------------------------------------------------------------------------
# Results are shown only from this many responses and only once the questionnaire has closed,
# by default this many days after the last session. Answers are published by the beat task in
# shuffled batches of at least the minimum (all that is left at closing).
QUESTIONNAIRE_MIN_RESPONSES = env.int("QUESTIONNAIRE_MIN_RESPONSES", default=5)
QUESTIONNAIRE_CLOSES_AFTER_DAYS = env.int("QUESTIONNAIRE_CLOSES_AFTER_DAYS", default=14)
CELERY_BEAT_SCHEDULE["publish-questionnaire-responses"] = {
    "task": "questionnaire.tasks.publish_pending_responses_task",
    "schedule": 5 * 60,
}

# --- Security ------------------------------------------------------------------------------------
# Login throttling (accounts/throttling.py): 5 failures for the same account, however its address
# is written, from the same client address lock that pair out for 15 minutes. Keyed on the pair,
# so failures elsewhere never lock a person out at their own address; failures during the lockout
# do not extend it, so nobody stays locked out for longer than the cool-off.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_USERNAME_FORM_FIELD = "username"
AXES_USERNAME_CALLABLE = "accounts.throttling.normalise_login_username"
AXES_LOCKOUT_CALLABLE = "accounts.throttling.lockout_response"
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_HTTP_RESPONSE_CODE = 429
# And at most this many failed logins per client address, over all accounts, on the site's and
# the admin's login: one address cannot spray many accounts. Successful logins do not count.
LOGIN_FAILURES_PER_ADDRESS = env("LOGIN_FAILURES_PER_ADDRESS", default="30/h")
AXES_VERBOSE = False  # its log lines carry the e-mail address: personal data stays out of logs
# The client's address for the lockout, every rate limit and the logs: the number of trusted
# reverse proxies in front of gunicorn (1 behind docker-compose's nginx). With 0, X-Forwarded-For
# is ignored, since the client could write anything in it.
PROXY_COUNT = env.int("PROXY_COUNT", default=0)
AXES_CLIENT_IP_CALLABLE = "core.client_ip.client_ip"
RATELIMIT_IP_META_KEY = "core.client_ip.client_ip"
# Rate limits (django-ratelimit) need a cache shared by every process: Redis in production.
RATELIMIT_VIEW = "portal.views.rate_limited"
RATELIMIT_ENABLE = env.bool("RATELIMIT_ENABLE", default=True)
# With Redis down the counters cannot be read: let requests through rather than refuse them all.
RATELIMIT_FAIL_OPEN = True
if not REDIS_URL:
    # The embedded default is one process, where the local-memory cache is shared enough.
    SILENCED_SYSTEM_CHECKS = ["django_ratelimit.E003", "django_ratelimit.W001"]
# Staff must confirm their login with a TOTP code (django-otp); off by default in development.
STAFF_2FA_REQUIRED = env.bool("STAFF_2FA_REQUIRED", default=not DEBUG)
OTP_TOTP_ISSUER = PORTAL_NAME
# Uploads: attendance files and .p7m checks are small; refuse anything large early.
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 5000  # a register page of 200 participants × fields

# No inline script anywhere; Bootstrap Italia sets some inline styles.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        # Bootstrap Italia's CSS inlines one icon font as a data: URL.
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# --- SPID and CIE through an OpenID Connect IAM proxy (issue 16, accounts/oidc.py) -------------
# The portal is a relying party of a proxy that speaks SPID/CIE on the other side (e.g.
# iam-proxy-italia). Empty OIDC_ISSUER: no SPID/CIE buttons. Endpoints and keys come from
# OIDC_ISSUER/.well-known/openid-configuration.
OIDC_ISSUER = env("OIDC_ISSUER", default="").rstrip("/")
OIDC_CLIENT_ID = env("OIDC_CLIENT_ID", default="")
OIDC_CLIENT_SECRET = env("OIDC_CLIENT_SECRET", default="")
if OIDC_ISSUER and not (OIDC_CLIENT_ID and OIDC_CLIENT_SECRET):
    raise ImproperlyConfigured("OIDC_ISSUER is set: set OIDC_CLIENT_ID and OIDC_CLIENT_SECRET too.")
OIDC_SCOPES = env("OIDC_SCOPES", default="openid profile email")
OIDC_TOKEN_ENDPOINT_AUTH_METHOD = env(
    "OIDC_TOKEN_ENDPOINT_AUTH_METHOD", default="client_secret_basic"
)
# The SPID level asked for (SPID L2 by default; CIE levels map to it at the proxy).
OIDC_ACR_VALUES = env("OIDC_ACR_VALUES", default="https://www.spid.gov.it/SpidL2")
# Extra authorization parameters per button, as a query string (e.g. the proxy's IdP hint).
OIDC_SPID_AUTHORIZE_PARAMS = env("OIDC_SPID_AUTHORIZE_PARAMS", default="")
OIDC_CIE_AUTHORIZE_PARAMS = env("OIDC_CIE_AUTHORIZE_PARAMS", default="")
# ID token signatures we accept, whatever the provider advertises: never "none", never HMAC.
OIDC_ID_TOKEN_ALGORITHMS = env.list("OIDC_ID_TOKEN_ALGORITHMS", default=["RS256", "ES256", "PS256"])
OIDC_LEEWAY = env.int("OIDC_LEEWAY", default=60)  # seconds of clock skew on exp/iat
OIDC_TIMEOUT = env.float("OIDC_TIMEOUT", default=10.0)
# The e-mail and password form for participants; staff can always use it (at /admin/ too).
PASSWORD_LOGIN_ENABLED = env.bool("PASSWORD_LOGIN_ENABLED", default=True)


def oidc_form_action(issuer: str) -> list[str]:
    """CSP form-action: the logout form is redirected to the provider's end-session endpoint."""
    from urllib.parse import urlsplit

    if not issuer:
        return ["'self'"]
    parts = urlsplit(issuer)
    return ["'self'", f"{parts.scheme}://{parts.netloc}"]


CONTENT_SECURITY_POLICY["DIRECTIVES"]["form-action"] = oidc_form_action(OIDC_ISSUER)

# --- REST API for the organisations' systems (issue 16) -----------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["api.authentication.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["api.permissions.HasApiKey"],
    "DEFAULT_THROTTLE_CLASSES": ["api.throttling.ApiKeyRateThrottle"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "api.exceptions.problem_exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
# Requests per API key (DRF rate syntax: "600/hour", "20/minute").
API_KEY_RATE = env.str("API_KEY_RATE", default="600/hour")
SPECTACULAR_SETTINGS = {
    "TITLE": "Corsi PA API",
    "DESCRIPTION": "Catalogo pubblico e dati dei propri partecipanti per i sistemi degli enti.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "REDOC_DIST": "SIDECAR",
    "SCHEMA_PATH_PREFIX": "/api/v1",
}

# --- Security (production) ----------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"client_address": {"()": "core.client_ip.ClientAddressLogFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(client_ip)s] %(message)s"}
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["client_address"],
        }
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "axes": {"level": "ERROR"},
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}
