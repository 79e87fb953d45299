"""Settings shared by every environment. Environment-specific files override these."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from config.env import env, env_bool, env_int, env_list

BASE_DIR = Path(__file__).resolve().parent.parent.parent
# Local, git-ignored state for embedded defaults: SQLite files, generated keys, uploads.
DATA_DIR = Path(env("EIDETIC_DATA_DIR", str(BASE_DIR / "var")))

SECRET_KEY = env("DJANGO_SECRET_KEY", "")
DEBUG = False
ALLOWED_HOSTS: list[str] = []

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "oauth2_provider",
    "accounts",
    "vault",
    "ledger",
    "broker",
    "insights",
    "club",
]

MIDDLEWARE = [
    # Outermost, so it times and counts every answer (config/metrics.py).
    "config.metrics.MetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
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

# Wrapped data keys live in their own database so that a backup of the data
# database alone never holds what opens it (see README, "Keys and backups").
DATABASE_ROUTERS = ["vault.routers.KeysRouter"]

AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
# The start page sends each role to its own home (dashboard, partner console, ledger).
LOGIN_REDIRECT_URL = "vault:home"
LOGOUT_REDIRECT_URL = "accounts:login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# Uploads are streamed to a temporary file, never kept in memory whole.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

# --- Eidetic apps, each with one namespaced settings dict -------------------------------
VAULT = {
    # Where the master key (KEK) comes from: a file keyring under DATA_DIR by default,
    # or the environment (EIDETIC_KEK / EIDETIC_KEK_FILE) in production.
    "KEYRING": env("VAULT_KEYRING", "vault.keyring.FileKeyring"),
    "KEYRING_DIR": DATA_DIR / "keys",
    "IMPORT_MAX_BYTES": env_int("VAULT_IMPORT_MAX_BYTES", 50 * 1024 * 1024),
    # A compressed upload may expand to at most this many bytes (zip/gzip bombs).
    "IMPORT_MAX_EXPANDED_BYTES": env_int("VAULT_IMPORT_MAX_EXPANDED_BYTES", 500 * 1024 * 1024),
    # How many parsed records between two progress updates of an import job.
    "IMPORT_BATCH_SIZE": 2000,
    # Called as ``hook(person, since=None)`` after an import stored new records.
    "ON_NEW_RECORDS": ["insights.services.interests_changed"],
}

LEDGER = {
    "ORIGIN": env("LEDGER_ORIGIN", "eidetic.local/ledger"),
    "SIGNING_KEY": env("LEDGER_SIGNING_KEY"),  # None: generated under DATA_DIR/keys
    "KEY_DIR": DATA_DIR / "keys",
    "CHECKPOINT_EVERY_ENTRIES": env_int("LEDGER_CHECKPOINT_EVERY_ENTRIES", 1000),
    "CHECKPOINT_EVERY_SECONDS": env_int("LEDGER_CHECKPOINT_EVERY_SECONDS", 60),
    "ANCHOR": env("LEDGER_ANCHOR", "ledger.anchoring.EthereumTesterAnchor"),
    # EthereumTesterAnchor only: a file that lets every process share one in-process chain
    # (local settings set it; None: each process has its own chain, as in tests).
    "TESTER_CHAIN_JOURNAL": None,
    "ETH_RPC_URL": env("LEDGER_ETH_RPC_URL"),
    "ETH_PRIVATE_KEY": env("LEDGER_ETH_PRIVATE_KEY"),
    "PAGE_SIZE": 1000,
    # The sequencer moves at most this many pending entries per transaction.
    "SEQUENCE_BATCH": env_int("LEDGER_SEQUENCE_BATCH", 1000),
    # Sequence right after each appending transaction commits (a Celery task; inline where
    # Celery is eager). Beat also runs the sequencer every second either way.
    "SEQUENCE_ON_COMMIT": env_bool("LEDGER_SEQUENCE_ON_COMMIT", True),
    # Complete-subtree hashes each process keeps in memory for proofs (they never change;
    # see ledger.tree). 0 turns the cache off.
    "NODE_CACHE_SIZE": env_int("LEDGER_NODE_CACHE_SIZE", 50_000),
}

BROKER = {
    # Webhooks: how they leave (broker.webhooks.WebhookSender), and their retry schedule.
    "WEBHOOK_SENDER": env("BROKER_WEBHOOK_SENDER", "broker.webhooks.HttpSender"),
    "WEBHOOK_TIMEOUT_SECONDS": env_int("BROKER_WEBHOOK_TIMEOUT_SECONDS", 3),
    "WEBHOOK_BACKOFF_SECONDS": env_int("BROKER_WEBHOOK_BACKOFF_SECONDS", 30),
    "WEBHOOK_MAX_ATTEMPTS": env_int("BROKER_WEBHOOK_MAX_ATTEMPTS", 12),
    # Partner data API pages: default and hard maximum number of records.
    "PAGE_SIZE": 100,
    "MAX_PAGE_SIZE": 500,
    # Reads of one consent take its row lock only within this many reads of the frequency
    # limit (see broker.access._needs_lock): exact while fewer reads are in flight at once.
    "FREQUENCY_LOCK_MARGIN": env_int("BROKER_FREQUENCY_LOCK_MARGIN", 64),
    # A consent request not answered within this many days lapses (it can no longer be granted).
    "REQUEST_TTL_DAYS": env_int("BROKER_REQUEST_TTL_DAYS", 14),
    # Idempotency-Key records are replayed for this long, then pruned (the key may be reused).
    "IDEMPOTENCY_TTL_HOURS": env_int("BROKER_IDEMPOTENCY_TTL_HOURS", 24),
}

# --- REST API -------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "oauth2_provider.contrib.rest_framework.OAuth2Authentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "EXCEPTION_HANDLER": "config.api_errors.exception_handler",
    # Every API view is throttled per caller (config/ratelimit.py): per OAuth application
    # ("partner"), per signed-in person ("person"), else per address ("anon"); the public
    # auditor API per address ("auditor"). Fixed windows in the shared cache.
    "DEFAULT_THROTTLE_CLASSES": ["config.ratelimit.ClientRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "partner": env("API_RATE_PARTNER", "1200/minute"),
        "person": env("API_RATE_PERSON", "300/minute"),
        "anon": env("API_RATE_ANON", "120/minute"),
        "auditor": env("API_RATE_AUDITOR", "600/minute"),
    },
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Eidetic API",
    "DESCRIPTION": "Consent-based personal data broker: partner data API and public ledger API.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI and ReDoc assets are served from the sidecar package, never a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Every operation documents the 429 of the rate limits (config/api_schema.py).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "config.api_schema.add_rate_limit_responses",
    ],
}

# The toolkit's models are not swapped; naming them lets migrations that point at them
# (broker's token bindings) declare their swappable dependency.
OAUTH2_PROVIDER_APPLICATION_MODEL = "oauth2_provider.Application"
OAUTH2_PROVIDER_ACCESS_TOKEN_MODEL = "oauth2_provider.AccessToken"  # noqa: S105 - a model name
OAUTH2_PROVIDER_REFRESH_TOKEN_MODEL = "oauth2_provider.RefreshToken"  # noqa: S105 - a model name
OAUTH2_PROVIDER_ID_TOKEN_MODEL = "oauth2_provider.IDToken"  # noqa: S105 - a model name
OAUTH2_PROVIDER_GRANT_MODEL = "oauth2_provider.Grant"

OAUTH2_PROVIDER = {
    # Authorization code + PKCE (S256 only), nothing else (RFC 9700).
    "PKCE_REQUIRED": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
    "COMPLIANT_BCP_RFC9700_REFRESH_TOKEN": True,
    "COMPLIANT_BCP_RFC9700_REDIRECT_URI_SCHEME": True,
    "COMPLIANT_BCP_RFC9700_REDIRECT_URI_MATCHING": True,
    "COMPLIANT_BCP_RFC9700_PKCE_REQUIRED": True,
    # RFC 9207 `iss` in authorization responses (mix-up defence) and tokens hashed at rest.
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
    "OAUTH2_RESPONSE_TYPES_SUPPORTED": ["code"],
    "OAUTH2_GRANT_TYPES_SUPPORTED": ["authorization_code", "refresh_token"],
    "ALLOWED_REDIRECT_URI_SCHEMES": ["https"],
    "ALLOW_URI_WILDCARDS": False,
    "AUTHORIZATION_CODE_EXPIRE_SECONDS": 60,
    "ACCESS_TOKEN_EXPIRE_SECONDS": 600,
    "ROTATE_REFRESH_TOKEN": True,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    # Every authorization shows the consent screen: a new consent each time.
    "REQUEST_APPROVAL_PROMPT": "force",
    "SCOPES_BACKEND_CLASS": "broker.catalogue.CatalogueScopes",
    "OAUTH2_VALIDATOR_CLASS": "broker.oauth.ConsentValidator",
    # Settings-level list kept in step with the catalogue (the toolkit reads both).
    "SCOPES": {
        "lifelog.moments:read": "Read your moments",
        "lifelog.location:coarse": "See roughly where you were",
        "lifelog.location:precise": "See exactly where you were",
        "lifelog.heartrate:read": "Read your heart rate",
        "social.interests:read": "Read your social interests",
        "social.posts:read": "Read your social posts",
        "insights.interests:read": "Read your interest profiles",
        "vault.contribute:write": "Add records to your vault",
        "club.view:read": "Let club members read what members observed about you",
    },
    "DEFAULT_SCOPES": [],
}

# --- Celery ---------------------------------------------------------------------------
# A task is acknowledged only once it has run, and given back to the queue when its worker
# dies (SIGKILL, OOM): every task is idempotent (see each task's docstring), so running
# one twice is safe while losing one is not. One task in hand per worker process.
# With Redis as the broker: a task published from a web request fails within a moment
# when Redis is away, instead of kombu's default of retrying the connection for seconds.
# Every caller has a fallback (the webhook outbox, pending ledger entries, a 503), and a
# worker keeps reconnecting on its own (broker_connection_retry, not these options).
CELERY_PUBLISH_FAIL_FAST = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
    "socket_connect_timeout": 1,
}
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# With late acks, a task in hand when the broker connection drops is redelivered, so the
# worker stops it rather than finishing it twice.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
# A hung task is stopped long before Redis' visibility timeout (production: 3600 s)
# would hand it to a second worker.
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 1500)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 1800)
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_IMPORTS = ["config.tasks"]


def _every(seconds: float, task: str) -> dict:
    # A periodic run that waited in the queue longer than its own period is dropped, so a
    # worker outage does not leave thousands of identical runs to work through.
    return {"task": task, "schedule": timedelta(seconds=seconds), "options": {"expires": max(seconds, 5)}}


CELERY_BEAT_SCHEDULE = {
    "worker-heartbeat": _every(10, "config.tasks.worker_heartbeat"),
    "ledger-sequence": _every(1, "ledger.tasks.sequence_pending"),
    "ledger-checkpoint": _every(10, "ledger.tasks.maybe_sign_checkpoint"),
    "ledger-anchor": _every(60, "ledger.tasks.anchor_latest_checkpoint"),
    "broker-webhooks": _every(30, "broker.tasks.sweep_webhooks"),
    "broker-expiry": _every(60, "broker.tasks.expire_consents"),
    "broker-idempotency": _every(3600, "broker.tasks.prune_idempotency_records"),
}

# --- Operations: health, metrics, rate limits (docs/operations.md) ---------------------
HEALTH_CHECKS = {
    "database": "config.health.database",
    "keys_database": "config.health.keys_database",
    "redis": "config.health.redis_server",
    "worker_heartbeat": "config.health.worker_heartbeat",
    "ledger_sequencer": "config.health.ledger_sequencer",
    "ledger_anchor": "config.health.ledger_anchor",
}
HEALTH = {
    "WORKER_HEARTBEAT_MAX_AGE": env_int("HEALTH_WORKER_HEARTBEAT_MAX_AGE", 60),
    "LEDGER_PENDING_MAX_AGE": env_int("HEALTH_LEDGER_PENDING_MAX_AGE", 30),
    "ANCHOR_MAX_LAG": env_int("HEALTH_ANCHOR_MAX_LAG", 3600),
    # Down but not a reason to stop serving: /health/ready stays 200, status "degraded".
    "ADVISORY": env_list("HEALTH_ADVISORY_CHECKS", ["worker_heartbeat", "ledger_sequencer", "ledger_anchor"]),
}

METRICS = {
    # /metrics answers loopback callers without a proxy in between, and anyone presenting
    # this bearer token; everyone else gets a 404.
    "TOKEN": env("METRICS_TOKEN"),
    # Turn off when a proxy on this host forwards public requests without X-Forwarded-For.
    "ALLOW_LOOPBACK": env_bool("METRICS_ALLOW_LOOPBACK", True),
    "QUEUES": env_list("METRICS_QUEUES", ["celery"]),
}

RATE_LIMITS = {
    # Failed logins counted per username and per client address; at the limit, logins for
    # that username (or from that address) wait until the window ends.
    "LOGIN_PER_USERNAME": env("RATE_LIMIT_LOGIN_PER_USERNAME", "10/15m"),
    "LOGIN_PER_IP": env("RATE_LIMIT_LOGIN_PER_IP", "100/15m"),
    # Every request to the OAuth token endpoint, per client id.
    "OAUTH_TOKEN_PER_CLIENT": env("RATE_LIMIT_OAUTH_TOKEN_PER_CLIENT", "120/m"),
    # How many proxies of ours append to X-Forwarded-For in front of the app (0: none).
    "TRUSTED_PROXIES": env_int("RATE_LIMIT_TRUSTED_PROXIES", 0),
}
# A cache outage must not lock everyone out: limits are not applied while it lasts.
RATELIMIT_FAIL_OPEN = True

# --- Logging: JSON lines; personal data and tokens are never logged ---------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
        },
    },
    "filters": {"drop_request_details": {"()": "config.log_filters.DropRequestDetails"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "json", "filters": ["drop_request_details"]}
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {
        # Django's request logger prints the path; our paths carry only UUIDs.
        "django.request": {"level": "ERROR"},
    },
}

# `manage.py demo` runs these in order; each is ``populate(world: dict, out) -> None`` and
# may read and extend ``world`` (people, partners, ...) that earlier steps built.
DEMO_STEPS = [
    "vault.demo.populate",
    "broker.demo.populate",
    "insights.demo.populate",
    "club.demo.populate",
    "ledger.demo.populate",  # last: the auditor login, and a checkpoint over all the above
]
