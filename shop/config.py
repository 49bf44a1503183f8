"""Settings, read once from the environment and from a `.env` file in the app root.

Every other module reads settings as `config.NAME`, never from os.environ, so a
test can call `config.load({...})` to start from a clean slate. A bad or missing
setting raises ConfigError with one line that names the variable.
"""

import os
import secrets
import socket
from pathlib import Path
from urllib.parse import urlparse

from shop.errors import ConfigError

# A checkout has setup.cfg at its top: there the app root (its .env, its data/) is
# that folder and the templates are its views/. An installed wheel sits in
# site-packages, where nothing may be written: its app root is the working
# directory, and its templates are the copy it carries in shop_web/views.
_SOURCE_ROOT = Path(__file__).resolve().parent.parent
_IN_CHECKOUT = (_SOURCE_ROOT / "setup.cfg").is_file()
APP_ROOT = _SOURCE_ROOT if _IN_CHECKOUT else Path.cwd()
VIEWS_DIR = _SOURCE_ROOT / "views" if _IN_CHECKOUT else _SOURCE_ROOT / "shop_web" / "views"
STATIC_DIR = VIEWS_DIR / "static"

ENVIRONMENTS = ("local", "production", "testing")
QUEUE_CONNECTIONS = ("sqlite", "redis", "postgres")
MAILERS = ("smtp", "file")


def read_dotenv(path):
    """Parse KEY=VALUE lines; blank lines, comments and `export ` prefixes are allowed."""
    values = {}
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        return values
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[len("export "):]
        key, sep, value = line.partition("=")
        if not sep:
            raise ConfigError(f"{path}:{number}: expected KEY=VALUE, got {line!r}")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        values[key.strip()] = value
    return values


class _Reader:
    """Typed access to one snapshot of the environment, naming the variable on error."""

    def __init__(self, env):
        self.env = env

    def str(self, name, default=None):
        value = self.env.get(name, "")
        return value if value != "" else default

    def choice(self, name, choices, default):
        value = self.str(name, default).lower()
        if value not in choices:
            raise ConfigError(f"{name} must be one of {', '.join(choices)}; got {value!r}")
        return value

    def int(self, name, default, minimum=None, maximum=None):
        raw = self.str(name)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise ConfigError(f"{name} must be a whole number; got {raw!r}") from None
        if minimum is not None and value < minimum:
            raise ConfigError(f"{name} must be at least {minimum}; got {value}")
        if maximum is not None and value > maximum:
            raise ConfigError(f"{name} must be at most {maximum}; got {value}")
        return value

    def float(self, name, default, minimum=None):
        raw = self.str(name)
        if raw is None:
            return default
        try:
            value = float(raw)
        except ValueError:
            raise ConfigError(f"{name} must be a number; got {raw!r}") from None
        if minimum is not None and value < minimum:
            raise ConfigError(f"{name} must be at least {minimum}; got {value}")
        return value

    def bool(self, name, default):
        raw = self.str(name)
        if raw is None:
            return default
        if raw.lower() in ("1", "true", "yes", "on"):
            return True
        if raw.lower() in ("0", "false", "no", "off"):
            return False
        raise ConfigError(f"{name} must be true or false; got {raw!r}")

    def url(self, name, default, schemes=("http", "https")):
        value = self.str(name, default)
        parsed = urlparse(value)
        if parsed.scheme not in schemes or not parsed.netloc:
            raise ConfigError(f"{name} must be an absolute {'/'.join(schemes)} URL; got {value!r}")
        return value.rstrip("/")

    def percent(self, name, default):
        raw = self.str(name)
        if raw is None:
            return default
        try:
            value = float(raw)
        except ValueError:
            raise ConfigError(f"{name} must be a percentage between 0 and 100; got {raw!r}") from None
        if not 0 <= value <= 100:
            raise ConfigError(f"{name} must be a percentage between 0 and 100; got {raw!r}")
        return value


def _app_secret(read, app_env, data_dir):
    """APP_SECRET, or in local development one generated once and kept in data/."""
    secret = read.str("APP_SECRET")
    if secret:
        if len(secret) < 32:
            raise ConfigError("APP_SECRET must be at least 32 characters long")
        return secret
    if app_env == "production":
        raise ConfigError("APP_SECRET must be set when APP_ENV=production")
    path = data_dir / "app_secret"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        secret = secrets.token_urlsafe(48)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secret)
        return secret
    except FileExistsError:  # pragma: no cover - another process won the race
        return path.read_text().strip()


def load(environ=None, dotenv=True):
    """(Re)compute every setting from `environ` (default: os.environ plus .env)."""
    env = {}
    # The test suite runs with APP_ENV=testing and must not see a developer's .env.
    if dotenv and os.environ.get("APP_ENV") != "testing":
        env.update(read_dotenv(APP_ROOT / ".env"))
    env.update(os.environ if environ is None else environ)
    read = _Reader(env)
    g = globals()

    app_env = read.choice("APP_ENV", ENVIRONMENTS, "local")
    data_dir = Path(read.str("DATA_DIR", str(APP_ROOT / "data"))).resolve()
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"DATA_DIR {data_dir} cannot be created: {exc.strerror}") from None

    g["APP_ENV"] = app_env
    g["DEBUG"] = read.bool("DEBUG", False)
    g["APP_URL"] = read.url("APP_URL", "http://127.0.0.1:8080")
    g["APP_NAME"] = read.str("APP_NAME", "Marketplace")
    g["DATA_DIR"] = data_dir
    g["APP_SECRET"] = _app_secret(read, app_env, data_dir)
    g["SECURE_COOKIES"] = g["APP_URL"].startswith("https://")

    database_url = read.str("DATABASE_URL", f"sqlite:///{data_dir / 'marketplace.db'}")
    if urlparse(database_url).scheme not in ("sqlite", "postgres", "postgresql", "postgresext"):
        raise ConfigError(f"DATABASE_URL must be a sqlite:/// or postgresql:// URL; got {database_url!r}")
    g["DATABASE_URL"] = database_url

    g["QUEUE_CONNECTION"] = read.choice("QUEUE_CONNECTION", QUEUE_CONNECTIONS, "sqlite")
    g["QUEUE_NAME"] = read.str("QUEUE_NAME", "marketplace")
    g["QUEUE_SQLITE_PATH"] = data_dir / "queue.db"
    redis_url = read.str("REDIS_URL")
    if redis_url is None:
        password = read.str("REDIS_PASSWORD")
        if password in (None, "null"):
            password = None
        host = read.str("REDIS_HOST", "127.0.0.1")
        port = read.int("REDIS_PORT", 6379, 1, 65535)
        auth = f":{password}@" if password else ""
        redis_url = f"redis://{auth}{host}:{port}/{read.int('REDIS_DB', 0, 0)}"
    elif urlparse(redis_url).scheme not in ("redis", "rediss", "unix"):
        raise ConfigError(f"REDIS_URL must be a redis:// URL; got {redis_url!r}")
    g["REDIS_URL"] = redis_url
    if g["QUEUE_CONNECTION"] == "postgres" and not database_url.startswith("postgres"):
        raise ConfigError("QUEUE_CONNECTION=postgres needs DATABASE_URL to be a postgresql:// URL")

    # Job runtime: see jobs.py and README "Job system".
    g["QUEUE_POLL_MAX_DELAY"] = read.float("QUEUE_POLL_MAX_DELAY", 0.25, 0.01)
    g["QUEUE_SWEEP_SECONDS"] = read.int("QUEUE_SWEEP_SECONDS", 15, 1)
    g["QUEUE_WORKER_STALE_SECONDS"] = read.int("QUEUE_WORKER_STALE_SECONDS", 30, 5)
    g["QUEUE_HEARTBEAT_SECONDS"] = read.float("QUEUE_HEARTBEAT_SECONDS", 5, 0.2)
    g["QUEUE_WORKER_MEMORY_MB"] = read.int("QUEUE_WORKER_MEMORY_MB", 0, 0)
    g["QUEUE_WORKER_MAX_SECONDS"] = read.int("QUEUE_WORKER_MAX_SECONDS", 0, 0)
    g["QUEUE_TIMEOUT_GRACE_SECONDS"] = read.float("QUEUE_TIMEOUT_GRACE_SECONDS", 5, 0.1)
    # How workers name their host in heartbeats; two consumers on one machine may pose as two hosts.
    g["QUEUE_HOSTNAME"] = read.str("QUEUE_HOSTNAME", socket.gethostname())
    # Further modules whose jobs the consumer loads (a site's own jobs; the tests' sample jobs).
    g["JOB_MODULES"] = tuple(m.strip() for m in read.str("JOB_MODULES", "").split(",") if m.strip())
    g["QUEUE_ASYNC_COMMIT"] = read.bool("QUEUE_ASYNC_COMMIT", True)
    g["QUEUE_MAX_LOST"] = read.int("QUEUE_MAX_LOST", 10, 1)
    g["QUEUE_JOB_RETENTION_HOURS"] = read.int("QUEUE_JOB_RETENTION_HOURS", 24 * 7, 1)
    g["QUEUE_FAILED_RETENTION_HOURS"] = read.int("QUEUE_FAILED_RETENTION_HOURS", 24 * 30, 1)

    g["STRIPE_SECRET_KEY"] = read.str("STRIPE_SECRET_KEY")
    g["STRIPE_WEBHOOK_SECRET"] = read.str("STRIPE_WEBHOOK_SECRET")
    if bool(g["STRIPE_SECRET_KEY"]) != bool(g["STRIPE_WEBHOOK_SECRET"]):
        missing = "STRIPE_WEBHOOK_SECRET" if g["STRIPE_SECRET_KEY"] else "STRIPE_SECRET_KEY"
        raise ConfigError(f"{missing} must be set too: Stripe needs both keys")
    g["STRIPE_API_BASE"] = read.str("STRIPE_API_BASE")
    g["STRIPE_ENABLED"] = bool(g["STRIPE_SECRET_KEY"])

    paytm = {name: read.str(name) for name in ("PAYTM_MID", "PAYTM_MERCHANT_KEY", "PAYTM_WEBSITE")}
    if any(paytm.values()) and not all(paytm.values()):
        missing = next(name for name, value in paytm.items() if not value)
        raise ConfigError(f"{missing} must be set too: Paytm needs PAYTM_MID, PAYTM_MERCHANT_KEY and PAYTM_WEBSITE")
    g.update(paytm)
    g["PAYTM_HOST"] = read.url("PAYTM_HOST", "https://securegw-stage.paytm.in")
    g["PAYTM_ENABLED"] = all(paytm.values())

    # The test-mode gateway only exists when nothing real is configured, and never in production.
    g["TEST_PAYMENTS_ENABLED"] = app_env != "production" and not (g["STRIPE_ENABLED"] or g["PAYTM_ENABLED"])

    g["MAIL_MAILER"] = read.choice("MAIL_MAILER", MAILERS, "file")
    g["MAIL_HOST"] = read.str("MAIL_HOST", "127.0.0.1")
    g["MAIL_PORT"] = read.int("MAIL_PORT", 25, 1, 65535)
    g["MAIL_USERNAME"] = read.str("MAIL_USERNAME")
    g["MAIL_PASSWORD"] = read.str("MAIL_PASSWORD")
    g["MAIL_ENCRYPTION"] = read.choice("MAIL_ENCRYPTION", ("none", "starttls", "tls"), "none")
    g["MAIL_TIMEOUT"] = read.float("MAIL_TIMEOUT", 10, 0.1)
    g["MAIL_FROM"] = read.str("MAIL_FROM", "Marketplace <shop@localhost>")
    g["MAIL_DIR"] = data_dir / "mail"

    g["CURRENCY"] = read.str("CURRENCY", "USD").upper()
    if len(g["CURRENCY"]) != 3 or not g["CURRENCY"].isalpha():
        raise ConfigError(f"CURRENCY must be a three-letter ISO code; got {g['CURRENCY']!r}")
    g["COMMISSION_PERCENT"] = read.percent("COMMISSION_PERCENT", 10.0)
    g["DOWNLOAD_LINK_TTL_HOURS"] = read.int("DOWNLOAD_LINK_TTL_HOURS", 48, 1)
    g["DOWNLOAD_LIMIT"] = read.int("DOWNLOAD_LIMIT", 5, 1)
    g["DOWNLOAD_ACCEL_PREFIX"] = read.str("DOWNLOAD_ACCEL_PREFIX")

    g["UPLOAD_MAX_MB"] = read.int("UPLOAD_MAX_MB", 100, 1)
    g["THUMBNAIL_MAX_MB"] = read.int("THUMBNAIL_MAX_MB", 10, 1)
    g["IMAGE_MAX_PIXELS"] = read.int("IMAGE_MAX_PIXELS", 40_000_000, 1000)
    g["THUMBNAIL_WIDTHS"] = (160, 480, 960)
    g["UPLOADS_DIR"] = data_dir / "products"
    g["MEDIA_DIR"] = data_dir / "media"
    g["INVOICES_DIR"] = data_dir / "invoices"

    g["WEB_BIND"] = read.str("WEB_BIND", "127.0.0.1:8080")
    g["WEB_CONCURRENCY"] = read.int("WEB_CONCURRENCY", 2, 1)
    g["WEB_THREADS"] = read.int("WEB_THREADS", 4, 1)
    g["LOGIN_MAX_FAILURES"] = read.int("LOGIN_MAX_FAILURES", 5, 1)
    g["LOGIN_LOCKOUT_SECONDS"] = read.int("LOGIN_LOCKOUT_SECONDS", 300, 1)
    g["SESSION_DAYS"] = read.int("SESSION_DAYS", 14, 1)
    g["METRICS_TOKEN"] = read.str("METRICS_TOKEN")
    g["ALERT_WAIT_SECONDS"] = read.int("ALERT_WAIT_SECONDS", 120, 1)
    g["ALERT_FAILURE_RATE"] = read.percent("ALERT_FAILURE_RATE", 20.0)
    g["ALERT_COOLDOWN_MINUTES"] = read.int("ALERT_COOLDOWN_MINUTES", 30, 1)
    g["LOG_LEVEL"] = read.choice("LOG_LEVEL", ("debug", "info", "warning", "error"), "info").upper()
    return g


try:
    load()
except ConfigError as _exc:
    # Any process (web, consumer, CLI) stops here with one line naming the setting.
    raise SystemExit(f"Configuration error: {_exc}") from None
