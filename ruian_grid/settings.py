"""Settings, read from the environment with safe production defaults.

Every value comes from an environment variable with a typed reader (django-environ) that fails loudly
on a malformed value. Without DEBUG, the defaults are the production ones: no debug pages, secure
cookies, HSTS, a SECRET_KEY that must be given.
"""

import datetime as dt
from pathlib import Path
from typing import Any

import environ

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY") if not DEBUG else env.str("SECRET_KEY", default="dev-only-insecure-key")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "mptt",
    "guardian",
    "simple_history",
    "django_htmx",
    "django_celery_beat",
    "axes",
    "csp",
    "ruian_grid",  # project-wide commands (seed_demo, sync_schedule, outbox_relay); no models
    "ruian_grid.outbox",  # work to do later, written with the change (ruian_grid/outbox)
    "grids",
    "teams",
    "cases",
    "mechanisms",
    "reports",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "ruian_grid.error_views.BodySizeMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "ruian_grid.middleware.ChosenLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "axes.middleware.AxesMiddleware",  # last: turns a lockout into our 429 answer
]

ROOT_URLCONF = "ruian_grid.urls"
WSGI_APPLICATION = "ruian_grid.wsgi.application"

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
                "teams.context_processors.inbox",
            ],
        },
    },
]

# The embedded default is a SQLite file under var/; production sets DATABASE_URL to PostgreSQL. The
# embedded broker and local media live there too, whatever the database, so the folder is made when any
# of those defaults is in use.
if not ("DATABASE_URL" in env and "REDIS_URL" in env and "MEDIA_ROOT" in env):
    VAR_DIR.mkdir(exist_ok=True)
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'ruian_grid.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Wait for the writer instead of failing at once when web and worker share the file.
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # No JIT compilation: its cost estimates count correlated subqueries once per row, so a dashboard
    # query reading 50,000 rows in 0.2 s spent a further second compiling (docs/decisions/1310).
    if not env.bool("DATABASE_JIT", default=False):
        DATABASES["default"].setdefault("OPTIONS", {}).setdefault("options", "-c jit=off")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "teams.User"
AUTHENTICATION_BACKENDS = [
    "ruian_grid.signin.SignInThrottleBackend",  # django-axes: refuses locked accounts and addresses first
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
GUARDIAN_RAISE_403 = False
GUARDIAN_RENDER_403 = False
ANONYMOUS_USER_NAME = None  # no anonymous guardian user: anonymous visitors hold no grant
# Strong passwords wherever one is chosen (admin, password change): 12 characters at least, not
# like the person's name or username, not a common password, not all digits.
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
        "OPTIONS": {"user_attributes": ("username", "full_name", "email")},
    },
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": env.int("PASSWORD_MIN_LENGTH", default=12)},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "ruian_grid.passwords.CharacterClassValidator", "OPTIONS": {"min_classes": 2}},
]

# Sign-in throttling (django-axes, ruian_grid/signin.py): AXES_FAILURE_LIMIT failed sign-ins lock the
# account, and separately the client address, for AXES_COOLOFF_MINUTES; a success resets the count.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=10)
AXES_COOLOFF_TIME = dt.timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "ruian_grid.signin.lockout_response"
AXES_CLIENT_IP_CALLABLE = "ruian_grid.signin.client_ip"
# Reverse proxies in front of gunicorn whose X-Forwarded-For is trusted (0: use REMOTE_ADDR).
AXES_TRUSTED_PROXIES = env.int("AXES_TRUSTED_PROXIES", default=0)
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale", BASE_DIR / "grids" / "registry" / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=str(BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = env.path("MEDIA_ROOT", default=str(VAR_DIR / "media"))
STORAGES: dict[str, dict[str, Any]] = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# Security: production defaults, relaxed only by DEBUG or explicit variables.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy (django-csp): scripts and styles only from our own static files; no inline
# script, no inline event handler, no inline style. /api/docs/ loosens style-src for Swagger UI only
# (ruian_grid/docs.py). See docs/decisions/0303-csp-error-pages-and-limits.md.
CONTENT_SECURITY_POLICY: dict[str, Any] = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

# Request size: form and JSON bodies up to 2.5 MB in memory; files above FILE_UPLOAD_MAX_MEMORY_SIZE go
# to a temporary file; each upload kind has its own byte limit (cases, imports). A body over
# DATA_UPLOAD_MAX_MEMORY_SIZE is refused with 400 (ruian_grid/errors_views.py renders it in Chinese).
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=2_621_440)
DATA_UPLOAD_MAX_NUMBER_FIELDS = 1000
DATA_UPLOAD_MAX_NUMBER_FILES = 20
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
CSRF_FAILURE_VIEW = "ruian_grid.error_views.csrf_failure"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "ruian_grid.pagination.KeysetPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    # Rate limits (answers 429 with DRF's Chinese detail); the token endpoint has its own stricter scope.
    "DEFAULT_THROTTLE_CLASSES": [
        "ruian_grid.throttling.AnonRateThrottle",
        "ruian_grid.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("API_THROTTLE_ANON", default="60/minute"),
        "user": env.str("API_THROTTLE_USER", default="600/minute"),
        "token": env.str("API_THROTTLE_TOKEN", default="10/minute"),
    },
    "EXCEPTION_HANDLER": "ruian_grid.errors.api_exception_handler",
}
SPECTACULAR_SETTINGS: dict[str, Any] = {
    "TITLE": "Ruian Grid API",
    "DESCRIPTION": "平安网格 — grid-based community governance",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Several apps name a choice field "kind" or "status": give each set its own schema name (the
    # registry adds its own below).
    "ENUM_NAME_OVERRIDES": {
        "GridKindEnum": "grids.models.Kind",
        "CaseKindEnum": "cases.models.CaseKind",
        "CaseStatusEnum": "cases.models.Status",
        "PartStatusEnum": "cases.models.PartStatus",
        "ResponsibleUnitKindEnum": "teams.models.UnitKind",
    },
}

# Celery: Redis in production; without REDIS_URL a broker that needs no server (kombu's SQLAlchemy
# transport on a SQLite file next to the database).
REDIS_URL = env.str("REDIS_URL", default="")
CELERY_BROKER_URL = env.str(
    "CELERY_BROKER_URL", default=REDIS_URL or f"sqla+sqlite:///{VAR_DIR / 'broker.sqlite3'}"
)
CELERY_RESULT_BACKEND = None
# Set explicitly, whatever TIME_ZONE becomes: every crontab (ruian_grid/beat.py) is read in it.
CELERY_TIMEZONE = "Asia/Shanghai"
CELERY_ENABLE_UTC = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Notifications (teams/channels.py): the class sending each channel; e-mail uses EMAIL_BACKEND.
TEAMS_CHANNELS = {
    "email": env.str("TEAMS_EMAIL_CHANNEL", default="teams.channels.EmailChannel"),
    "sms": env.str("TEAMS_SMS_CHANNEL", default="teams.channels.LoggingSMSChannel"),
}
TEAMS_DELIVERY_MAX_ATTEMPTS = env.int("TEAMS_DELIVERY_MAX_ATTEMPTS", default=6)
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="noreply@ruian-grid.invalid")
SITE_URL = env.str("SITE_URL", default="http://localhost:8000")
# Connections the deadline scan claims batches of cases on at once (PostgreSQL; SKIP LOCKED shares
# them out). 1: one batch after another.
SUPERVISION_SCAN_WORKERS = env.int("SUPERVISION_SCAN_WORKERS", default=2)
HEALTHZ_BROKER_TIMEOUT = env.float("HEALTHZ_BROKER_TIMEOUT", default=2.0)
# Seconds a request waits for the broker after its commit; past that the outbox relay sends the work.
OUTBOX_BROKER_TIMEOUT = env.float("OUTBOX_BROKER_TIMEOUT", default=2.0)

CACHES = {
    "default": env.cache("CACHE_URL", default="locmemcache://")
    if not REDIS_URL
    else {
        # Fails soft (ruian_grid/cache.py): with Redis down, reads miss and writes are dropped, so API
        # rate limits open up instead of every API call failing.
        "BACKEND": "ruian_grid.cache.FailSoftRedisCache",
        "LOCATION": REDIS_URL,
        "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
    },
}

# Sessions: read from the cache, written to both (`cached_db`: one query less on every request), when
# the cache is shared by every process (Redis). With the per-process default cache a session signed
# out in one process would live on in another's cache, so there they stay in the database alone.
# SESSION_CACHED=1 forces the cached engine (a shared CACHE_URL, or one process only).
SESSION_ENGINE = (
    "django.contrib.sessions.backends.cached_db"
    if env.bool("SESSION_CACHED", default=bool(REDIS_URL))
    else "django.contrib.sessions.backends.db"
)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}

# --- Registry personal data (grids/registry/crypto.py) -------------------------------------------
# ID numbers and phones are encrypted at rest. REGISTRY_ENCRYPTION_KEYS is a comma-separated list of
# "<key id>:<base64 of 32+ random bytes>"; the first encrypts, the rest only decrypt (rotation: put the
# new key first and keep the old ones). REGISTRY_HASH_KEY is a separate base64 key for the keyed hash
# that exact search uses. REGISTRY_CIPHER is "aes-gcm" or "sm4-gcm". Production must set the keys: the
# insecure defaults below exist only when DEBUG is on (settings_test.py sets its own test keys).
_REGISTRY_DEV_KEYS = ["dev:ZGV2LW9ubHktcmVnaXN0cnkta2V5LW5vdC1mb3ItcHJvZHVjdGlvbiE="]
_REGISTRY_DEV_HASH_KEY = "ZGV2LW9ubHktcmVnaXN0cnktaGFzaC1rZXktbm90LWZvci1wcm9kdWN0aW9u"
REGISTRY_CIPHER = env.str("REGISTRY_CIPHER", default="aes-gcm")
REGISTRY_ENCRYPTION_KEYS = (
    env.list("REGISTRY_ENCRYPTION_KEYS")
    if not DEBUG
    else env.list("REGISTRY_ENCRYPTION_KEYS", default=_REGISTRY_DEV_KEYS)
)
REGISTRY_HASH_KEY = (
    env.str("REGISTRY_HASH_KEY")
    if not DEBUG
    else env.str("REGISTRY_HASH_KEY", default=_REGISTRY_DEV_HASH_KEY)
)
REGISTRY_HASH_ALGORITHM = env.str("REGISTRY_HASH_ALGORITHM", default="sha256")
REGISTRY_IMPORT_MAX_BYTES = env.int("REGISTRY_IMPORT_MAX_BYTES", default=50 * 1024 * 1024)
REGISTRY_IMPORT_BATCH = env.int("REGISTRY_IMPORT_BATCH", default=2000)
# On PostgreSQL, write each batch on a second connection while the next is checked (decision 1104).
REGISTRY_IMPORT_OVERLAP = env.bool("REGISTRY_IMPORT_OVERLAP", default=True)
# The registry's tasks live in grids/registry/tasks.py, which autodiscovery (grids.tasks) does not reach.
CELERY_IMPORTS = ["grids.registry.tasks"]
# Distinct OpenAPI names for the registry's choice sets (several models have a "kind" and a "status").
SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"] = {
    **SPECTACULAR_SETTINGS.get("ENUM_NAME_OVERRIDES", {}),
    "RegistryStatusEnum": "grids.registry.models.Status",
    "BuildingKindEnum": "grids.registry.models.BuildingKind",
    "EstablishmentKindEnum": "grids.registry.models.EstablishmentKind",
    "ImportKindEnum": "grids.registry.models.ImportKind",
    "ImportStatusEnum": "grids.registry.models.ImportStatus",
    "CampaignKindEnum": "mechanisms.models.CampaignKind",
    "PairingKindEnum": "teams.models.PairingKind",
    "WorkLogNoteKindEnum": "teams.models.NoteKind",
    "VetoKindEnum": "reports.models.VetoKind",
    # A patrol finding raised as a case: hazard, incident or dispute only (mechanisms/api.py).
    "FindingCaseKindEnum": ["hazard", "incident", "dispute"],
}

# --- cases: attachments (owned by the cases app) ---------------------------------------------------
# Photos and documents of cases go through Django's storage API: local disk under MEDIA_ROOT by
# default; S3-compatible object storage when CASES_S3_BUCKET is set (django-storages). Either way
# they are served only through the scoped view /cases/<id>/files/<id>/, never from a public URL.
CASES_ATTACHMENT_MAX_BYTES = env.int("CASES_ATTACHMENT_MAX_BYTES", default=10 * 1024 * 1024)
if env.str("CASES_S3_BUCKET", default=""):
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env.str("CASES_S3_BUCKET"),
            "endpoint_url": env.str("CASES_S3_ENDPOINT_URL", default="") or None,
            "region_name": env.str("CASES_S3_REGION", default="") or None,
            "access_key": env.str("CASES_S3_ACCESS_KEY", default="") or None,
            "secret_key": env.str("CASES_S3_SECRET_KEY", default="") or None,
            "default_acl": "private",
            "querystring_auth": True,
            "file_overwrite": False,
        },
    }

# The largest multipart body accepted at all (ruian_grid.error_views.BodySizeMiddleware): the largest
# upload kind plus room for the form's other fields.
MAX_UPLOAD_BYTES = max(REGISTRY_IMPORT_MAX_BYTES, CASES_ATTACHMENT_MAX_BYTES) + 1024 * 1024
