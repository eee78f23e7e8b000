"""Configuration read from the environment (and `.env`).

`create_app()` picks a class by `MEDIATION_ENV` (development, production, testing); every
value a deployment changes comes from an environment variable.
"""

import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dotenv import load_dotenv
from flask_babel import gettext as _

BASE_DIR = Path(__file__).resolve().parent
load_dotenv(BASE_DIR / ".env")


def _flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def parse_region_names(text: str) -> dict[str, str]:
    """{code: name} of REGION_NAMES; ValueError for a pair that is not a region's 2- or
    4-digit code, "=" and a name."""
    names = {}
    for pair in filter(None, (item.strip() for item in text.replace("，", ",").split(","))):
        code, _sign, name = (part.strip() for part in pair.partition("="))
        if not (code.isascii() and code.isdigit() and len(code) in (2, 4) and name):
            raise ValueError(pair)
        names[code] = name
    return names


class ConfigError(Exception):
    """A setting the app cannot start with; the message, one line, names it and says what to
    do. create_app_or_exit (wsgi.py) prints it and exits with status 1, for `flask` and
    gunicorn alike."""


class Config:
    ENV_NAME = "development"
    SECRET_KEY = os.environ.get("SECRET_KEY", "dev-only-not-secret")
    # Empty means: a SQLite file in the instance folder (set by create_app).
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL", "")
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    TIMEZONE = os.environ.get("TIMEZONE", "Asia/Shanghai")
    SMS_GATEWAY_URL = os.environ.get("SMS_GATEWAY_URL", "")
    # The address parties and the public reach the app at, printed (as links and QR codes) on
    # notices and certificates; never taken from a request's Host header, which can be forged.
    PUBLIC_URL = os.environ.get("PUBLIC_URL", "http://127.0.0.1:5000")
    # The names of the regions (SPEC 10) pages and exports show, as CODE=NAME pairs separated
    # by commas ("33=浙江省,3301=杭州市"); a region without one is shown by its code.
    REGION_NAMES = os.environ.get("REGION_NAMES", "")
    SCHEDULER_ENABLED = _flag("SCHEDULER_ENABLED", True)
    # Seconds a scheduled run may start late (the scheduler was busy or down) and still run.
    SCHEDULER_MISFIRE_GRACE = _int("SCHEDULER_MISFIRE_GRACE", 600)

    # SMS gateway: POST {"phone", "text"} as JSON; an optional bearer token.
    SMS_GATEWAY_TOKEN = os.environ.get("SMS_GATEWAY_TOKEN", "")
    SMS_TIMEOUT_SECONDS = _int("SMS_TIMEOUT_SECONDS", 10)
    # After this many failed attempts a message is marked failed (and kept, for staff).
    NOTIFY_MAX_ATTEMPTS = _int("NOTIFY_MAX_ATTEMPTS", 5)
    # The wait before retry n is NOTIFY_RETRY_SECONDS * 2**(n-1).
    NOTIFY_RETRY_SECONDS = _int("NOTIFY_RETRY_SECONDS", 60)
    # E-mail is optional: without SMTP_HOST e-mails stay held in the outbox.
    SMTP_HOST = os.environ.get("SMTP_HOST", "")
    SMTP_PORT = _int("SMTP_PORT", 25)
    SMTP_USER = os.environ.get("SMTP_USER", "")
    SMTP_PASSWORD = os.environ.get("SMTP_PASSWORD", "")
    SMTP_FROM = os.environ.get("SMTP_FROM", "")
    SMTP_STARTTLS = _flag("SMTP_STARTTLS", False)

    BABEL_DEFAULT_LOCALE = "zh_Hans_CN"
    BABEL_DEFAULT_TIMEZONE = "UTC"
    LANGUAGES = {"zh_Hans_CN": "中文", "en": "English"}

    WTF_CSRF_TIME_LIMIT = 8 * 3600
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _flag("SESSION_COOKIE_SECURE", False)
    # Sent with HSTS (which goes with secure cookies): browsers then use HTTPS for every
    # subdomain of the app's host too.
    HSTS_INCLUDE_SUBDOMAINS = _flag("HSTS_INCLUDE_SUBDOMAINS", False)
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    REMEMBER_COOKIE_DURATION = timedelta(days=14)
    PERMANENT_SESSION_LIFETIME = timedelta(hours=12)

    # Login throttle: failures per account before a lock-out, and per client address.
    LOGIN_MAX_FAILURES = _int("LOGIN_MAX_FAILURES", 5)
    LOGIN_LOCK_MINUTES = _int("LOGIN_LOCK_MINUTES", 15)
    LOGIN_MAX_FAILURES_PER_CLIENT = _int("LOGIN_MAX_FAILURES_PER_CLIENT", 30)
    # Integration API: requests per minute per client (HTTP 429 beyond).
    API_RATE_LIMIT = _int("API_RATE_LIMIT", 120)
    # ... and calls without a valid token per client address before it waits (HTTP 429).
    API_MAX_FAILURES_PER_CLIENT = _int("API_MAX_FAILURES_PER_CLIENT", 30)
    API_LOCK_MINUTES = _int("API_LOCK_MINUTES", 15)
    # Number of reverse proxies in front of the app whose X-Forwarded-For is trusted.
    PROXY_COUNT = _int("PROXY_COUNT", 0)

    # Dossier files, stored under their SHA-256 outside the web root (relative: to this folder).
    DOSSIER_FOLDER = os.environ.get("DOSSIER_FOLDER", "instance/dossier")
    # A ledger of more rows is refused; reading stops at the first row past it.
    LEDGER_MAX_ROWS = _int("LEDGER_MAX_ROWS", 200_000)
    # How often an idle job process (`flask scheduler`, `flask jobs work`) looks for queued jobs.
    JOB_POLL_SECONDS = _int("JOB_POLL_SECONDS", 2)
    # Days an export's file is kept after its job ends (the daily housekeeping removes it).
    JOB_FILES_KEEP_DAYS = _int("JOB_FILES_KEEP_DAYS", 7)
    # Static files under hashed names, compressed, written by `flask static build` (relative: to
    # this folder); empty: plain names only.
    STATIC_BUILD_FOLDER = os.environ.get("STATIC_BUILD_FOLDER", "build/static")
    # Flask-Compress for pages only (static files come compressed from the build), applied by
    # mediation.web.compression, which leaves out requests that another site started.
    COMPRESS_MIMETYPES = ["text/html"]
    COMPRESS_REGISTER = False

    # Files may be 20 MB; a little more for the rest of the form, so that a slightly larger
    # file still reaches the upload view and gets its message beside the field.
    MAX_CONTENT_LENGTH = 21 * 1024 * 1024


class DevelopmentConfig(Config):
    pass


class ProductionConfig(Config):
    ENV_NAME = "production"
    SECRET_KEY = os.environ.get("SECRET_KEY", "")
    SESSION_COOKIE_SECURE = _flag("SESSION_COOKIE_SECURE", True)
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    HSTS_INCLUDE_SUBDOMAINS = _flag("HSTS_INCLUDE_SUBDOMAINS", True)
    # No guess: without it, printed notices and certificates carry no link or QR code.
    PUBLIC_URL = os.environ.get("PUBLIC_URL", "")


class TestingConfig(Config):
    ENV_NAME = "testing"
    TESTING = True
    SECRET_KEY = "testing-secret"
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL", "")
    SCHEDULER_ENABLED = False
    # A page that queues a job runs the queue (in a thread, as a job process would) before it
    # answers, so a test sees the outcome at once.
    JOBS_RUN_AT_ONCE = True
    # Cheap hashes keep the suite fast; production uses the werkzeug default (scrypt).
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"
    # Pages link plain names; the test of the static files builds a folder of its own.
    STATIC_BUILD_FOLDER = ""


CONFIGS = {
    "development": DevelopmentConfig,
    "production": ProductionConfig,
    "testing": TestingConfig,
}


def check_settings(config) -> None:
    """Raise ConfigError for the first setting the app cannot run with. Called by create_app
    in an app context, so that the message is in the operator's language."""
    if config["ENV_NAME"] == "production" and not config["SECRET_KEY"]:
        raise ConfigError(
            _(
                "SECRET_KEY is not set: production needs it (a long random string, the same "
                "for every process of the app)."
            )
        )
    public_url = urlsplit(config["PUBLIC_URL"])
    if config["PUBLIC_URL"] and (
        public_url.scheme not in ("http", "https")
        or not public_url.netloc
        or public_url.path.strip("/")
        or public_url.query
    ):
        raise ConfigError(
            _(
                "PUBLIC_URL %(url)s is not the address of the app; write its scheme and host "
                "only, such as https://tiaojie.example.gov.cn.",
                url=config["PUBLIC_URL"],
            )
        )
    try:
        parse_region_names(config["REGION_NAMES"])
    except ValueError as error:
        raise ConfigError(
            _(
                "REGION_NAMES has %(pair)s, which is not a region's code (2 or 4 digits), = and "
                "its name; write them as 33=浙江省,3301=杭州市.",
                pair=str(error),
            )
        ) from None
    try:
        ZoneInfo(config["TIMEZONE"])
    except (ZoneInfoNotFoundError, ValueError, OSError):  # "America" is a folder of zones
        raise ConfigError(
            _(
                "TIMEZONE %(name)s is not a known time zone; write one such as Asia/Shanghai.",
                name=config["TIMEZONE"],
            )
        ) from None
