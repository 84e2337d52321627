"""Settings for the electronic licence system: one module, every value from the environment.

With no environment set the project runs for development on SQLite with an embedded
(filesystem) Celery broker, so a newcomer needs nothing but Python. `DATABASE_URL` and
`REDIS_URL` switch it to PostgreSQL and Redis. Secrets are never in the repository: in
development they are generated once into `var/` (git-ignored); in production
(`DJANGO_DEBUG=false`) they must come from the environment.
"""

import secrets
from datetime import timedelta
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

VAR_DIR = Path(env.str("VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env.bool("DJANGO_DEBUG", default=True)


def _dev_secret(name: str, nbytes: int = 32) -> str:
    """A development secret kept in var/ so that it survives restarts but never enters git.

    Production must set the variable: a generated secret there would silently change on
    every new machine and make encrypted data unreadable.
    """
    if not DEBUG:
        raise environ.ImproperlyConfigured(f"{name} must be set when DJANGO_DEBUG is false")
    path = VAR_DIR / "secrets" / name.lower()
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(nbytes))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="") or _dev_secret("DJANGO_SECRET_KEY", 50)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
# Absolute base of the public check URL printed in every licence's QR code.
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "guardian",
    "auditlog",
    "axes",
    "registry",
    "licensing",
    "audit",
    "access",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "auditlog.middleware.AuditlogMiddleware",
    # Correlation id per request (X-Request-ID), carried into tasks and audit events.
    "audit.middleware.AuditContextMiddleware",
    # Last, as django-axes requires: answers a locked-out sign-in with its lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several processes (web, worker, beat) share the development database.
    DATABASES["default"].setdefault("OPTIONS", {}).update({"timeout": 20})
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # Server-side binding lets psycopg prepare a statement once it has run twice on a connection:
    # PostgreSQL then stops re-planning the hot statements (an API detail read spent ~1.5 ms of
    # ~12 ms planning them). DB_SERVER_SIDE_BINDING=false turns it off (e.g. behind PgBouncer in
    # transaction mode, where prepared statements do not survive between transactions).
    if env.bool("DB_SERVER_SIDE_BINDING", default=True):
        DATABASES["default"].setdefault("OPTIONS", {}).update(server_side_binding=True, prepare_threshold=2)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USING_POSTGRES = DATABASES["default"]["ENGINE"].startswith("django.db.backends.postgresql")

AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out username from that address before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
# Sign-in lockout (django-axes): after AXES_FAILURE_LIMIT wrong passwords for one username from
# one address, that pair is refused for AXES_COOLOFF_MINUTES (a guesser cannot lock a clerk out
# everywhere by trying their name). The security administrator sees and clears lockouts in the
# admin (访问尝试), or `manage.py axes_reset_username <name>`. The address is REMOTE_ADDR, as for
# the audit trail: behind a proxy, that is the proxy's (X-Forwarded-For can be forged).
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "auth/locked_out.html"
AXES_SENSITIVE_PARAMETERS = ["csrfmiddlewaretoken"]  # the password is always masked
AXES_VERBOSE = False  # lockouts are audit events (auth.locked_out); axes still warns in the log

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_HASHERS = env.list(
    "DJANGO_PASSWORD_HASHERS",
    default=[
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
        "django.contrib.auth.hashers.ScryptPasswordHasher",
    ],
)

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
STORAGES = {
    # Licence files are never served from MEDIA_URL directly: views check permission first.
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# --- Celery -------------------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
CELERY_FS_DIR = VAR_DIR / "celery"
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
else:
    # Embedded broker: messages are files under var/celery, shared by every local process.
    for sub in ("queue", "processed", "control"):
        (CELERY_FS_DIR / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_FS_DIR / "queue"),
        "data_folder_out": str(CELERY_FS_DIR / "queue"),
        "processed_folder": str(CELERY_FS_DIR / "processed"),
        "control_folder": str(CELERY_FS_DIR / "control"),
        "store_processed": False,
    }
    CELERY_RESULT_BACKEND = None
# A message not acknowledged within the visibility timeout is delivered again (at-least-once):
# every task time limit stays well below it, and every task is idempotent.
CELERY_VISIBILITY_TIMEOUT = env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)
if REDIS_URL:
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_VISIBILITY_TIMEOUT}
    CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_VISIBILITY_TIMEOUT}
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=120)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=180)
assert CELERY_TASK_TIME_LIMIT < CELERY_VISIBILITY_TIMEOUT, "task time limit must stay below the visibility timeout"
CELERY_TASK_ACKS_LATE = True
# Celery's Django fixup closes the database connection before and after every task unless this
# is set; it then closes it only every this-many tasks. `config.celery` applies Django's own
# policy (CONN_MAX_AGE, health checks) around each task instead.
CELERY_DB_REUSE_MAX = env.int("CELERY_DB_REUSE_MAX", default=1000)
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_EXPIRES = 3600
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    "worker-heartbeat": {"task": "audit.tasks.record_worker_heartbeat", "schedule": 60.0},
    "reconcile-pending-signatures": {"task": "licensing.tasks.reconcile_pending_signatures", "schedule": 120.0},
    "audit-sign-checkpoint": {
        "task": "audit.tasks.sign_checkpoint",
        "schedule": env.float("AUDIT_CHECKPOINT_INTERVAL", default=3600.0),
    },
    "audit-verify-chain": {
        "task": "audit.tasks.verify_audit_chain",
        "schedule": env.float("AUDIT_VERIFY_INTERVAL", default=86400.0),
    },
}
# A licence still PENDING_SIGNATURE this long after its last change is re-enqueued by the
# reconciler, until it has failed this many times (then a clerk looks at `signing_error`).
SIGNING_RECONCILE_AFTER_S = env.int("SIGNING_RECONCILE_AFTER_S", default=300)
SIGNING_MAX_ATTEMPTS = env.int("SIGNING_MAX_ATTEMPTS", default=20)
# The public file check only hashes uploads; the cap keeps a large upload from tying up a worker.
PUBLIC_CHECK_MAX_UPLOAD_BYTES = env.int("PUBLIC_CHECK_MAX_UPLOAD_BYTES", default=10 * 1024 * 1024)

# --- REST framework ---------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
}
# Per API key; answered with 429 and Retry-After beyond it (counted in Redis when REDIS_URL is set).
ACCESS_API_RATE = env.str("ACCESS_API_RATE", default="600/min")
SPECTACULAR_SETTINGS = {
    "TITLE": "北京市不动产登记电子证照 API",
    "DESCRIPTION": "Electronic licences for real property registration in Beijing: use by requesting organisations.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI from our own static files, not drf-spectacular's default of swagger-ui-dist@latest
    # from a CDN: an unpinned third-party script on the commission's origin, and a blank page on a
    # network without that CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- guardian / auditlog -----------------------------------------------------------------
ANONYMOUS_USER_NAME = None  # no anonymous object permissions: the public check page needs none
GUARDIAN_RAISE_403 = False
AUDITLOG_INCLUDE_ALL_MODELS = False

# --- Security ----------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=8 * 3600)
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("DJANGO_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}

# --- Holder ID numbers (registry.crypto) ---------------------------------------------------
# Key ring "kid:<base64 32 bytes>,kid:<base64>": the first key encrypts, all decrypt, so a new key
# is put first and `manage.py rotate_id_number_key` re-encrypts old rows. The blind-index key is
# separate: it only ever makes HMACs, never decrypts.
ID_NUMBER_KEYS = env.str("ID_NUMBER_KEYS", default="") or "dev:" + _dev_secret("ID_NUMBER_KEY", 32)
ID_NUMBER_INDEX_KEY = env.str("ID_NUMBER_INDEX_KEY", default="") or _dev_secret("ID_NUMBER_INDEX_KEY", 32)

# --- Licence PDFs: signing key, trust roots, timestamps, font ---------------------------
# Development uses a throw-away PKI created by `manage.py init_dev_pki` under PKI_DIR; in
# production every path points at material provisioned outside the repository.
PKI_DIR = Path(env.str("PKI_DIR", default=str(VAR_DIR / "pki")))
SIGNING_PKCS12_PATH = Path(env.str("SIGNING_PKCS12_PATH", default=str(PKI_DIR / "signing.p12")))
# Production must set the password; a generated one would not open a provisioned key file.
SIGNING_PKCS12_PASSWORD = env.str("SIGNING_PKCS12_PASSWORD", default="") or (
    _dev_secret("SIGNING_PKCS12_PASSWORD") if DEBUG else ""
)
# Certificates (PEM/DER files) that validation trusts; nothing from the system store.
SIGNING_TRUST_ROOTS = env.list("SIGNING_TRUST_ROOTS", default=[str(PKI_DIR / "root-ca.pem")])
# RFC 3161 TSA; empty = timestamps from the local development TSA key below.
TSA_URL = env.str("TSA_URL", default="")
TSA_CERT_PATH = Path(env.str("TSA_CERT_PATH", default=str(PKI_DIR / "tsa.pem")))
TSA_KEY_PATH = Path(env.str("TSA_KEY_PATH", default=str(PKI_DIR / "tsa.key")))
# TrueType CJK font embedded (subset) in every licence; ReportLab cannot embed CFF/OTF fonts.
CJK_FONT_PATH = env.str("CJK_FONT_PATH", default="/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
CJK_FONT_SUBFONT_INDEX = env.int("CJK_FONT_SUBFONT_INDEX", default=0)

# --- Audit chain (audit app) ----------------------------------------------------------------
# django-auditlog's change records take the same correlation id as the audit chain.
AUDITLOG_CID_GETTER = "audit.context.get_correlation_id"
