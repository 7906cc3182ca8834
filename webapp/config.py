"""Configuration read from the environment (and a ``.env`` file when present)."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

from dotenv import load_dotenv

PROJECT_ROOT = Path(__file__).resolve().parent.parent
load_dotenv(PROJECT_ROOT / ".env")


def _bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def database_url(raw: str | None) -> str:
    """Normalise ``DATABASE_URL``: relative SQLite paths hang off the project root and
    ``postgresql://`` uses the psycopg 3 driver."""
    url = raw or "sqlite:///instance/folio.db"
    if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
        relative = url.removeprefix("sqlite:///")
        if relative and relative != ":memory:":
            path = PROJECT_ROOT / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            url = f"sqlite:///{path}"
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            url = "postgresql+psycopg://" + url.removeprefix(prefix)
    return url


# Packs a member can buy: id -> credits and price (integer cents, in ``Config.CURRENCY``). A
# module constant as well as a setting: the API's contract lists the pack ids in its document.
CREDIT_PACKS = {
    "starter": {"label": "Starter", "credits": 500, "price_cents": 500},
    "growth": {"label": "Growth", "credits": 2_000, "price_cents": 1_800},
    "studio": {"label": "Studio", "credits": 10_000, "price_cents": 8_000},
}


class Config:
    """Production-safe defaults; development and testing relax only what they must."""

    ENV_NAME = os.environ.get("FOLIO_ENV", "production")
    SECRET_KEY = os.environ.get("SECRET_KEY")
    SQLALCHEMY_DATABASE_URI = database_url(os.environ.get("DATABASE_URL"))
    # No ping on every checkout (a round trip per request): ``webapp.extensions`` pings only a
    # connection that sat idle in the pool long enough for the server or a proxy to have closed it.
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": False}
    POOL_PING_AFTER_IDLE_SECONDS = float(os.environ.get("POOL_PING_AFTER_IDLE_SECONDS", "10"))
    REDIS_URL = os.environ.get("REDIS_URL") or None
    RQ_QUEUE = os.environ.get("RQ_QUEUE", "folio")
    # Links in mails are built from BASE_URL, never from the request's Host header.
    BASE_URL = os.environ.get("BASE_URL", "http://127.0.0.1:5000")
    # Reverse proxies in front of the app whose X-Forwarded-For/-Proto are trusted (0: none).
    PROXY_HOPS = int(os.environ.get("PROXY_HOPS", "0"))
    LOG_LEVEL = os.environ.get("LOG_LEVEL")  # INFO in development, WARNING in production

    # Sessions: a server-side row per sign-in makes them revocable.
    SESSION_IDLE_TIMEOUT = timedelta(minutes=int(os.environ.get("SESSION_IDLE_MINUTES", "120")))
    SESSION_ABSOLUTE_LIFETIME = timedelta(hours=int(os.environ.get("SESSION_ABSOLUTE_HOURS", "12")))
    REMEMBER_IDLE_TIMEOUT = timedelta(days=14)
    REMEMBER_ABSOLUTE_LIFETIME = timedelta(days=30)
    SESSION_COOKIE_NAME = "folio_session"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_NAME = "folio_remember"
    REMEMBER_COOKIE_DURATION = timedelta(days=30)
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = True
    PERMANENT_SESSION_LIFETIME = timedelta(days=30)

    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session it belongs to
    MAX_CONTENT_LENGTH = 6 * 1024 * 1024  # a little above the 5 MB avatar limit, for the form
    AVATAR_MAX_BYTES = 5 * 1024 * 1024

    # Tokens mailed to members.
    VERIFY_TOKEN_MAX_AGE = int(timedelta(days=2).total_seconds())
    RESET_TOKEN_MAX_AGE = int(timedelta(hours=1).total_seconds())

    # Rate limits (Flask-Limiter syntax).
    # On Redis, through ``webapp.extensions.OneTripRedisStorage`` (``folio+redis://``): one
    # round trip per limited request instead of three.
    RATELIMIT_STORAGE_URI = (
        os.environ.get("RATELIMIT_STORAGE_URI")
        or (f"folio+{REDIS_URL}" if REDIS_URL and REDIS_URL.startswith(("redis://", "rediss://")) else REDIS_URL)
        or "memory://"
    )
    RATELIMIT_HEADERS_ENABLED = True
    LOGIN_LIMIT_PER_IP = os.environ.get("LOGIN_LIMIT_PER_IP", "20 per 10 minutes")
    # Wrong passwords for one account from one client (its known-device cookie, else its
    # address), pages and API together; also a member's wrong passwords on forms that confirm it.
    LOGIN_LIMIT_PER_ACCOUNT = os.environ.get("LOGIN_LIMIT_PER_ACCOUNT", "5 per 10 minutes")
    # Wrong passwords for one account from every client without its known-device cookie.
    LOGIN_LIMIT_ACCOUNT_WIDE = os.environ.get("LOGIN_LIMIT_ACCOUNT_WIDE", "100 per hour")
    KNOWN_DEVICE_DAYS = int(os.environ.get("KNOWN_DEVICE_DAYS", "365"))
    MAIL_LIMIT = os.environ.get("MAIL_LIMIT", "5 per hour")

    # Mail: with no MAIL_SERVER, mail goes to the log and the local outbox.
    MAIL_SERVER = os.environ.get("MAIL_SERVER") or None
    MAIL_PORT = int(os.environ.get("MAIL_PORT", "587"))
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME") or None
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD") or None
    MAIL_USE_TLS = _bool("MAIL_USE_TLS", MAIL_PORT == 587)  # submission port: STARTTLS
    MAIL_USE_SSL = _bool("MAIL_USE_SSL", False)
    MAIL_DEFAULT_SENDER = os.environ.get("MAIL_DEFAULT_SENDER", "Folio <no-reply@example.com>")
    MAIL_OUTBOX_DIR = os.environ.get("MAIL_OUTBOX_DIR", str(PROJECT_ROOT / "instance" / "outbox"))

    # Storage: local folder by default.
    STORAGE_BACKEND = os.environ.get("STORAGE_BACKEND", "local")
    STORAGE_PATH = os.environ.get("STORAGE_PATH", str(PROJECT_ROOT / "instance" / "uploads"))
    STORAGE_URL_PREFIX = "/media"

    # API platform.
    USAGE_FLUSH_SECONDS = int(os.environ.get("USAGE_FLUSH_SECONDS", "30"))
    # How often sessions' noted uses reach user_sessions.last_seen_at (webapp/auth/last_seen.py).
    LAST_SEEN_FLUSH_SECONDS = int(os.environ.get("LAST_SEEN_FLUSH_SECONDS", "30"))
    API_LIMIT_PER_MEMBER = os.environ.get("API_LIMIT_PER_MEMBER", "1000 per hour")
    API_LIMIT_ANONYMOUS = os.environ.get("API_LIMIT_ANONYMOUS", "120 per minute")
    API_AUTH_LIMIT = os.environ.get("API_AUTH_LIMIT", "10 per minute")
    API_KEY_EXPIRY_WARNING_DAYS = 7
    # How long ended sign-ins stay listed, and how long the activity log is kept (daily purge).
    SIGN_IN_RETENTION_DAYS = int(os.environ.get("SIGN_IN_RETENTION_DAYS", "30"))
    ACTIVITY_RETENTION_DAYS = int(os.environ.get("ACTIVITY_RETENTION_DAYS", "365"))
    JWT_ISSUER = "folio"
    JWT_SECRET_KEY = os.environ.get("JWT_SECRET_KEY")
    JWT_ACCESS_TTL = timedelta(minutes=int(os.environ.get("JWT_ACCESS_MINUTES", "15")))
    JWT_REFRESH_TTL = timedelta(days=int(os.environ.get("JWT_REFRESH_DAYS", "30")))

    # Plans, in one place: ``max_monthly_limit`` bounds the monthly credit limit a member may set
    # (``webapp.credits``); ``limits`` are the daily quotas of ``webapp.usage`` (storage is a
    # level, not a daily count), copied onto each day's usage row as the limits of that day.
    PLANS = {
        "free": {
            "label": "Free",
            "max_monthly_limit": 5_000,
            "limits": {
                "api_calls": 10_000,
                "images_processed": 100,
                "file_uploads": 50,
                "message_count": 200,
                "token_count": 200_000,
                "storage_used_gb": 1,
                "bandwidth_used_gb": 10,
            },
        },
        "pro": {
            "label": "Pro",
            "max_monthly_limit": 50_000,
            "limits": {
                "api_calls": 50_000,
                "images_processed": 10_000,
                "file_uploads": 1_000,
                "message_count": 2_000,
                "token_count": 2_000_000,
                "storage_used_gb": 100,
                "bandwidth_used_gb": 500,
            },
        },
        "business": {
            "label": "Business",
            "max_monthly_limit": 500_000,
            "limits": {
                "api_calls": 500_000,
                "images_processed": 100_000,
                "file_uploads": 10_000,
                "message_count": 20_000,
                "token_count": 20_000_000,
                "storage_used_gb": 1_000,
                "bandwidth_used_gb": 5_000,
            },
        },
    }
    CREDIT_PACKS = CREDIT_PACKS
    CURRENCY = "usd"
    REFILL_CENTS_PER_CREDIT = 1  # what an auto-refill charges per credit (the Starter pack's rate)
    STRIPE_SECRET_KEY = os.environ.get("STRIPE_SECRET_KEY") or None
    STRIPE_WEBHOOK_SECRET = os.environ.get("STRIPE_WEBHOOK_SECRET") or None
    STRIPE_API_BASE = os.environ.get("STRIPE_API_BASE") or None  # a local Stripe-speaking server in tests
    # "stripe" or "demo" (credits at once, no money: development and tests only). Production
    # sells through Stripe when its key is set, and offers no purchase otherwise.
    PAYMENT_PROVIDER = os.environ.get("PAYMENT_PROVIDER") or ("stripe" if STRIPE_SECRET_KEY else None)
    IDEMPOTENCY_KEY_HOURS = 24  # how long an Idempotency-Key's answer is replayed (as Stripe does)


class DevelopmentConfig(Config):
    """Local ``make run``: plain HTTP, a fixed dev key if none is set."""

    ENV_NAME = "development"
    SECRET_KEY = Config.SECRET_KEY or "dev-only-insecure-key-change-me"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_SECURE = False
    PAYMENT_PROVIDER = Config.PAYMENT_PROVIDER or "demo"


class TestingConfig(Config):
    """The test suite: fast hashing is not needed, but deterministic limits are."""

    ENV_NAME = "testing"
    TESTING = True
    SECRET_KEY = "test-secret-key"  # noqa: S105 (tests only)
    JWT_SECRET_KEY = "test-jwt-secret"  # noqa: S105 (tests only)
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_SECURE = False
    RATELIMIT_STORAGE_URI = "memory://"
    BASE_URL = "http://localhost"
    MAIL_USE_TLS = False  # the test SMTP server speaks plain SMTP on a free port
    USAGE_FLUSH_SECONDS = 0  # counts land in the database at once
    PAYMENT_PROVIDER = "demo"
    ARGON2_FAST = True  # cheap argon2id parameters: the suite hashes hundreds of passwords
    SQLALCHEMY_DATABASE_URI = database_url(os.environ.get("TEST_DATABASE_URL") or "sqlite://")


CONFIGS = {"development": DevelopmentConfig, "production": Config, "testing": TestingConfig}


def config_for(name: str | None) -> type[Config]:
    """The config class for ``FOLIO_ENV`` (production when unset)."""
    return CONFIGS.get(name or os.environ.get("FOLIO_ENV", "production"), Config)
