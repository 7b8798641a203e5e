"""Settings for contactcenter, read from the environment.

With nothing set the project runs embedded: SQLite (WAL), the in-memory channel layer, Celery
tasks run eagerly in-process and an in-process ticker runs the periodic sweeps. Setting
``DATABASE_URL`` and ``REDIS_URL`` switches to PostgreSQL, Redis (Celery broker and
``channels_redis`` layer), real ``celery worker`` and ``celery beat`` processes.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parents[2]


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean (use 1/0, true/false, yes/no)")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name}={raw!r} is not an integer") from exc
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name}={value} must be at least {minimum}")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    return [part.strip() for part in raw.split(",") if part.strip()]


def env_secret(name: str, *, local_file: Path, required: bool) -> str:
    """A secret from the environment, else the one kept for this checkout, else one for this
    process only.

    Production (``required``) must set it explicitly: a generated key would differ between
    processes on different machines and sign nothing reliably. Reading the settings never
    writes a file: ``make demo`` keeps a key in ``local_file`` so that logins survive a
    restart, and without it (tests, ``manage.py check``) each process signs with its own.
    """
    value = env_str(name)
    if value:
        return value
    if required:
        raise ImproperlyConfigured(f"{name} must be set when DATABASE_URL or REDIS_URL is set")
    if local_file.exists():
        return local_file.read_text().strip()
    return secrets.token_urlsafe(50)


def database_from_url(url: str, *, pool_size: int = 0) -> dict:
    """The database at ``url``. With ``pool_size``, PostgreSQL connections come from a pool of
    that many (psycopg_pool) shared by the process's threads; otherwise each thread keeps its
    own for DB_CONN_MAX_AGE seconds."""
    parts = urlsplit(url)
    if parts.scheme in {"postgres", "postgresql", "pgsql"}:
        database = {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": unquote(parts.path.lstrip("/")),
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": parts.hostname or "",
            "PORT": str(parts.port or ""),
            "CONN_MAX_AGE": env_int("DB_CONN_MAX_AGE", 60, minimum=0),
            "CONN_HEALTH_CHECKS": True,
        }
        if pool_size:
            # A pool hands connections back at the end of each request or call; Django
            # refuses persistent connections beside it.
            # Health checks stay: with them the pool checks a connection before handing it
            # out, so a PostgreSQL restart costs no failed request.
            database.update(CONN_MAX_AGE=0)
            database["OPTIONS"] = {"pool": {"min_size": 2, "max_size": pool_size, "timeout": 10}}
        return database
    if parts.scheme == "sqlite":
        return sqlite_database(Path(unquote(parts.path)))
    raise ImproperlyConfigured(f"DATABASE_URL scheme {parts.scheme!r} is not supported")


def sqlite_database(path: Path) -> dict:
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": path,
        "OPTIONS": {
            # WAL lets readers run beside the single writer; IMMEDIATE takes the write lock at
            # the start of a transaction, so two writers queue instead of failing with
            # "database is locked" when one upgrades a read lock.
            "init_command": "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        },
    }


DATABASE_URL = env_str("DATABASE_URL")
REDIS_URL = env_str("REDIS_URL")
PRODUCTION_MODE = bool(DATABASE_URL or REDIS_URL)
EMBEDDED = not REDIS_URL

DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_secret(
    "SECRET_KEY", local_file=BASE_DIR / ".local" / "secret_key", required=PRODUCTION_MODE
)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "channels",
    "contactcenter.crm",
    "contactcenter.demo",
    "routing",
    "channels_app",
    "supervisor",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "contactcenter.config.urls"
ASGI_APPLICATION = "contactcenter.config.asgi.application"
WSGI_APPLICATION = None

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

# The ASGI server (contactcenter/config/asgi.py says so before Django loads) serves each
# HTTP request on a thread of its own and the websockets' database calls on
# CONSUMER_DB_THREADS threads: with a connection kept per thread, a busy Daphne held
# PostgreSQL's every connection ("too many clients"), and with one thread for every socket's
# calls (Channels' default) a floor of 2,000 consoles queued seconds deep. So the ASGI server
# shares a pool of connections between its threads. Celery's forked workers keep one
# persistent connection each: a pool does not survive a fork.
WEB_SERVER_PROCESS = env_bool("CONTACTCENTER_WEB_SERVER", False)
DB_POOL_SIZE = env_int("DB_POOL_SIZE", 20, minimum=0) if WEB_SERVER_PROCESS else 0
CONSUMER_DB_THREADS = env_int(
    "CONSUMER_DB_THREADS", 8 if WEB_SERVER_PROCESS and DATABASE_URL else 0, minimum=0
)
if DATABASE_URL:
    DATABASES = {"default": database_from_url(DATABASE_URL, pool_size=DB_POOL_SIZE)}
else:
    DATABASES = {
        "default": sqlite_database(Path(env_str("SQLITE_PATH") or BASE_DIR / "db.sqlite3"))
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [
    BASE_DIR / "static",
    # Chart.js for the reports page, installed by `npm ci` (Makefile) and served as is.
    ("vendor/chartjs", BASE_DIR / "node_modules" / "chart.js" / "dist"),
]
STATIC_ROOT = BASE_DIR / "staticfiles"
# Daphne serves /static/ itself unless a front proxy does (SERVE_STATIC=0 behind nginx).
SERVE_STATIC = env_bool("SERVE_STATIC", True)

# Channels: one process in embedded mode, Redis across processes otherwise.
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                # redis-py 8 times out a socket after 5 s, the same as the layer's blocking
                # read, which drops idle websockets (channels_redis issue 422).
                # redis-py refuses a connection past its pool's limit ("Too many
                # connections"): a Daphne whose consoles all reconnect at once opens one per
                # handshake in flight, so the limit is the server's, not a guess of ours.
                "hosts": [{"address": REDIS_URL, "socket_timeout": None, "max_connections": 2000}],
                # Messages waiting per channel (STACK-NOTES trap 2): a Daphne process's
                # consumers share one channel, and a round's burst of offers and position
                # updates must not overflow it.
                "capacity": 20000,
                "expiry": 60,
            },
        }
    }
else:
    CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels.layers.InMemoryChannelLayer", "CONFIG": {"capacity": 1500}}
    }

# The cache coalesces routing triggers across processes, so it must be shared when they are.
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    # Room for every console's liveness key (routing.services.presence): past MAX_ENTRIES
    # (300 by default) LocMem drops a third of its keys at random.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "OPTIONS": {"MAX_ENTRIES": 100_000},
        }
    }

# Celery: eager in embedded mode, Redis broker otherwise.
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_TASK_ALWAYS_EAGER = EMBEDDED
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ACKS_LATE = True
# A busy worker must not sit on rounds that an idle one could run.
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Celery's Django fixup closes the database connection around every task unless this is
# set, so each routing round paid a new PostgreSQL connection. Connections are kept and
# Django's own CONN_MAX_AGE and health checks retire them (contactcenter/config/celery.py).
CELERY_DB_REUSE_MAX = 1000
ROUTING_SWEEP_SECONDS = env_int("ROUTING_SWEEP_SECONDS", 2, minimum=1)
# Requested routing rounds running at once across all workers (the sweep's round comes on top).
ROUTING_ROUND_SLOTS = env_int("ROUTING_ROUND_SLOTS", 2, minimum=1)
# An agent with no open console for this long is set offline (a reload takes less). Open
# consoles report in several times per grace period.
CONSOLE_GRACE_SECONDS = env_int("CONSOLE_GRACE_SECONDS", 30, minimum=3)
CONSOLE_HEARTBEAT_SECONDS = CONSOLE_GRACE_SECONDS / 3
# The supervisor dashboard refreshes on every change (a few times a second at most) and,
# on a quiet floor, this often, so that waits and alerts move on by themselves.
SUPERVISOR_QUIET_REFRESH_SECONDS = env_int("SUPERVISOR_QUIET_REFRESH_SECONDS", 5, minimum=1)
CELERY_BEAT_SCHEDULE = {
    "routing-sweep": {
        "task": "routing.tasks.run_sweep",
        "schedule": float(ROUTING_SWEEP_SECONDS),
        "options": {"expires": float(ROUTING_SWEEP_SECONDS)},
    },
    # Today's finished quarter-hours, summed once for the live dashboard.
    "supervisor-rollups": {
        "task": "supervisor.tasks.roll_up_intervals",
        "schedule": 60.0,
        "options": {"expires": 60.0},
    },
    "redeliver-stale-messages": {
        "task": "channels_app.tasks.redeliver_stale",
        "schedule": 60.0,
        "options": {"expires": 60.0},
    },
}
# In embedded mode there is no beat process: the ASGI app runs the same sweep on a ticker.
EMBEDDED_TICKER = env_bool("EMBEDDED_TICKER", EMBEDDED)
# The demo's generator of customer chats and simulated agents, in the Daphne process.
DEMO_TRAFFIC = env_bool("DEMO_TRAFFIC", False)

# --- channels in and out ---
# The address this deployment is reached at from outside (https://cc.example.com), as the
# providers see it: Twilio signs the exact URL it called. Empty: the request's own URL.
PUBLIC_BASE_URL = env_str("PUBLIC_BASE_URL").rstrip("/")
# Phone numbers written without a country code are read as numbers of this region.
PHONE_DEFAULT_REGION = env_str("PHONE_DEFAULT_REGION", "US")
# A new contact joins the customer's open case if that case saw activity this recently.
CASE_THREADING_HOURS = env_int("CASE_THREADING_HOURS", 72, minimum=0)
# Twilio (SMS, WhatsApp, Voice). Without an auth token the Twilio webhooks answer 404.
TWILIO_ACCOUNT_SID = env_str("TWILIO_ACCOUNT_SID")
TWILIO_AUTH_TOKEN = env_str("TWILIO_AUTH_TOKEN")
TWILIO_API_BASE_URL = env_str("TWILIO_API_BASE_URL", "https://api.twilio.com")
# The number calls to customers come from, when the conversation has no number of ours.
TWILIO_CALLER_ID = env_str("TWILIO_CALLER_ID")
# The agents' browser phones: an API key signs their Voice SDK access tokens.
TWILIO_API_KEY_SID = env_str("TWILIO_API_KEY_SID")
TWILIO_API_KEY_SECRET = env_str("TWILIO_API_KEY_SECRET")
TWILIO_TWIML_APP_SID = env_str("TWILIO_TWIML_APP_SID")
# Meta (Messenger, Instagram). Without an app secret the Meta webhook answers 404.
META_APP_SECRET = env_str("META_APP_SECRET")
META_VERIFY_TOKEN = env_str("META_VERIFY_TOKEN")
META_PAGE_ACCESS_TOKEN = env_str("META_PAGE_ACCESS_TOKEN")
META_GRAPH_BASE_URL = env_str("META_GRAPH_BASE_URL", "https://graph.facebook.com/v21.0")
# The largest inbound webhook body accepted (Django refuses bigger bodies with a 400).
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("INBOUND_MAX_BYTES", 2_621_440, minimum=1024)
# Email: replies go out through Django's email backend (SMTP in production; printed to the
# console in the embedded mode unless EMAIL_BACKEND says otherwise).
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if PRODUCTION_MODE
    else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_HOST = env_str("EMAIL_HOST", "127.0.0.1")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10, minimum=1)
# Replies come from the mailbox the customer wrote to when its domain is one of
# INBOUND_EMAIL_DOMAINS; otherwise (and when none are listed) from this one.
EMAIL_REPLY_FROM = env_str("EMAIL_REPLY_FROM", "support@localhost")
# The domain of the Message-IDs we generate (so that replies thread back to us).
EMAIL_MESSAGE_ID_DOMAIN = env_str("EMAIL_MESSAGE_ID_DOMAIN", "contactcenter.local")
# The SMTP listener (`manage.py run_smtp`) and the raw-message webhook.
SMTP_LISTEN_HOST = env_str("SMTP_LISTEN_HOST", "127.0.0.1")
SMTP_LISTEN_PORT = env_int("SMTP_LISTEN_PORT", 2525, minimum=1)
# Recipient domains the listener accepts mail for; empty: any.
INBOUND_EMAIL_DOMAINS = [domain.lower() for domain in env_list("INBOUND_EMAIL_DOMAINS", [])]
# Bearer token of the inbound-email webhook; without one the webhook answers 404.
INBOUND_EMAIL_TOKEN = env_str("INBOUND_EMAIL_TOKEN")
EMAIL_MAX_BYTES = env_int("EMAIL_MAX_BYTES", 25 * 1024 * 1024, minimum=1024)
EMAIL_ATTACHMENT_MAX_BYTES = env_int("EMAIL_ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024, minimum=1)
MEDIA_ROOT = Path(env_str("MEDIA_ROOT") or BASE_DIR / "media")
MEDIA_URL = "/media/"
# A web chat visitor whose page reloads or drops gets this long to come back to the same
# conversation; after that the sweep ends the chat as if they had left. 0: end at once.
CHAT_RESUME_SECONDS = env_int("CHAT_RESUME_SECONDS", 60, minimum=0)
# How long a resume token (kept by the visitor's browser tab) stays valid.
CHAT_RESUME_MAX_AGE_SECONDS = env_int("CHAT_RESUME_MAX_AGE_SECONDS", 12 * 3600, minimum=60)
# How alike (0-100) a customer's words and an intent's example must be for the bot to answer.
BOT_MATCH_THRESHOLD = env_int("BOT_MATCH_PERCENT", 50, minimum=1) / 100
# A conversation with the bot that nobody writes in for this long ends (resolved if the bot
# had answered something, abandoned otherwise).
BOT_IDLE_MINUTES = env_int("BOT_IDLE_MINUTES", 30, minimum=1)
# Outbound deliveries that fail for a passing reason (timeouts, 5xx) are tried again.
DELIVERY_MAX_RETRIES = env_int("DELIVERY_MAX_RETRIES", 5, minimum=0)
DELIVERY_TIMEOUT_SECONDS = env_int("DELIVERY_TIMEOUT_SECONDS", 10, minimum=1)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # The API takes JSON (one view, replies with files, takes multipart); anything else is 415.
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # One error body, {"error", "field", "code"}, for every error the API answers.
    "EXCEPTION_HANDLER": "channels_app.api.errors.api_exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "contactcenter API",
    "DESCRIPTION": "Omnichannel contact center: customers, cases, routing and live state. "
    'Every error answers {"error": str, "field": str | null, "code": str}.',
    "VERSION": "0.1.0",
    # The schema describes the API, not itself.
    "SERVE_INCLUDE_SCHEMA": False,
    # <id:...> in the URLs (channels_app.api.converters): a 64-bit row id.
    "PATH_CONVERTER_OVERRIDES": {"id": {"type": "integer", "format": "int64", "minimum": 1}},
    # Several models have a "status"; each set of choices gets a name of its own (a case's and
    # an interaction's are the same set, open or closed).
    "ENUM_NAME_OVERRIDES": {
        "OpenOrClosedEnum": "contactcenter.crm.models.Case.Status",
        "WorkItemStatusEnum": "routing.models.WorkItem.Status",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL") or "INFO"},
    "loggers": {
        "django.channels.server": {"level": "WARNING"},
        # Eager tasks would log every routing round in the server's console.
        "celery.app.trace": {"level": "WARNING" if EMBEDDED else "INFO"},
        "kombu.connection": {"level": "ERROR" if EMBEDDED else "WARNING"},
        # It logs every request's headers at INFO.
        "twilio.http_client": {"level": "WARNING"},
        # aiosmtpd logs every SMTP command at INFO.
        "mail.log": {"level": "WARNING"},
    },
}
