"""Settings: one frozen `Settings`, built by `load_settings()` from the environment
and from a `.env` file in the app root.

Only `load_settings()` reads os.environ. Every other module reads a setting as
`config.NAME`, which is the attribute of the current Settings (loaded on first
use); a test makes its own the current ones with `config.configure(environ)`.
A bad or missing setting raises ConfigError with one line that names the variable.

Importing this module reads nothing and writes nothing. The one step that writes,
creating DATA_DIR and keeping a generated APP_SECRET for local development in it,
is `start()`, which every process runs once as it starts: the consumer and the
web app through tasks.start(), the `marketplace` command in its main().
"""

import dataclasses
import os
import re
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

    def _number(self, name, default, parse, kind, minimum=None, maximum=None):
        raw = self.str(name)
        if raw is None:
            return default
        try:
            value = parse(raw)
        except ValueError:
            raise ConfigError(f"{name} must be {kind}; got {raw!r}") from None
        if minimum is not None and value < minimum:
            raise ConfigError(f"{name} must be at least {minimum}; got {value}")
        if maximum is not None and value > maximum:
            raise ConfigError(f"{name} must be at most {maximum}; got {value}")
        return value

    def int(self, name, default, minimum=None, maximum=None):
        return self._number(name, default, int, "a whole number", minimum, maximum)

    def float(self, name, default, minimum=None):
        return self._number(name, default, float, "a number", minimum)

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

    def optional_url(self, name, schemes=("http", "https")):
        """An absolute URL kept as written, or None when unset."""
        value = self.str(name)
        if value is None:
            return None
        parsed = urlparse(value)
        if parsed.scheme not in schemes or not parsed.netloc:
            raise ConfigError(f"{name} must be an absolute {'/'.join(schemes)} URL; got {value!r}")
        return value

    def percent(self, name, default):
        kind = "a percentage between 0 and 100"
        value = self._number(name, default, float, kind)
        if not 0 <= value <= 100:
            raise ConfigError(f"{name} must be {kind}; got {self.str(name)!r}")
        return value


@dataclasses.dataclass(frozen=True)
class Settings:
    """Every setting of the shop, one attribute each, named as in the environment.

    Paths are resolved; derived values (SECURE_COOKIES, the *_ENABLED switches, the
    folders under DATA_DIR) are worked out once, here, so no caller repeats the rule.
    """

    APP_ENV: str
    DEBUG: bool
    APP_URL: str
    APP_NAME: str
    DATA_DIR: Path
    # None in local development until start() has generated and kept one in DATA_DIR.
    APP_SECRET: str | None
    SECURE_COOKIES: bool
    DATABASE_URL: str

    # The queue and the job runtime (README "Job system").
    QUEUE_CONNECTION: str
    QUEUE_NAME: str
    QUEUE_SQLITE_PATH: Path
    REDIS_URL: str
    QUEUE_POLL_MAX_DELAY: float
    QUEUE_SWEEP_SECONDS: int
    QUEUE_WORKER_STALE_SECONDS: int
    QUEUE_HEARTBEAT_SECONDS: float
    QUEUE_WORKER_MEMORY_MB: int
    QUEUE_WORKER_MAX_SECONDS: int
    QUEUE_TIMEOUT_GRACE_SECONDS: float
    QUEUE_HOSTNAME: str
    JOB_MODULES: tuple
    QUEUE_ASYNC_COMMIT: bool
    QUEUE_MAX_LOST: int
    QUEUE_JOB_RETENTION_HOURS: int
    QUEUE_FAILED_RETENTION_HOURS: int

    # Payment gateways.
    STRIPE_SECRET_KEY: str | None
    STRIPE_WEBHOOK_SECRET: str | None
    STRIPE_CONNECT_WEBHOOK_SECRET: str | None
    STRIPE_API_BASE: str | None
    STRIPE_ENABLED: bool
    PAYTM_MID: str | None
    PAYTM_MERCHANT_KEY: str | None
    PAYTM_WEBSITE: str | None
    PAYTM_HOST: str
    PAYTM_ENABLED: bool
    TEST_PAYMENTS_ENABLED: bool

    # Mail.
    MAIL_MAILER: str
    MAIL_HOST: str
    MAIL_PORT: int
    MAIL_USERNAME: str | None
    MAIL_PASSWORD: str | None
    MAIL_ENCRYPTION: str
    MAIL_TIMEOUT: float
    MAIL_FROM: str
    MAIL_DIR: Path

    # Money, downloads and uploads.
    CURRENCY: str
    COMMISSION_PERCENT: float
    PAYOUT_HOLD_DAYS: int
    PAYOUT_MINIMUM: int
    PAYOUT_SCHEDULE: str
    DOWNLOAD_LINK_TTL_HOURS: int
    DOWNLOAD_LIMIT: int
    DOWNLOAD_RENEWALS_PER_DAY: int
    SALE_NOTICE_DELAY_SECONDS: int
    PRODUCT_UPDATE_MAILS: int
    PRODUCT_UPDATE_MAIL_WINDOW_SECONDS: int
    DOWNLOAD_ACCEL_PREFIX: str | None
    UPLOAD_MAX_MB: int
    THUMBNAIL_MAX_MB: int
    IMAGE_MAX_PIXELS: int
    THUMBNAIL_WIDTHS: tuple
    UPLOADS_DIR: Path
    MEDIA_DIR: Path
    INVOICES_DIR: Path

    # Where the files are kept (README "Files in object storage").
    STORAGE: str
    S3_BUCKET: str | None
    S3_REGION: str
    S3_ENDPOINT_URL: str | None
    S3_ACCESS_KEY_ID: str | None
    S3_SECRET_ACCESS_KEY: str | None
    S3_PREFIX: str
    S3_PUBLIC_URL: str | None
    DOWNLOAD_URL_TTL_SECONDS: int
    # The base URL of the generated thumbnails: /media, or the bucket's public URL or CDN.
    MEDIA_URL: str

    # Invoices and tax (shop/tax/, shop/orders/invoices.py).
    SHOP_LEGAL_NAME: str
    SHOP_LEGAL_ADDRESS: str
    SHOP_COUNTRY: str
    SHOP_TAX_NUMBER: str
    SHOP_REGISTRATION: str
    INVOICE_ISSUER: str
    INVOICE_DELIVERY: str
    TAX_CALCULATION: str
    PRICES_INCLUDE_TAX: bool
    TAX_RATES_FILE: Path

    # The web app, sign-in, monitoring and logs.
    WEB_BIND: str
    WEB_CONCURRENCY: int
    WEB_THREADS: int
    LOGIN_MAX_FAILURES: int
    LOGIN_LOCKOUT_SECONDS: int
    LICENSE_API_PER_KEY_PER_MINUTE: int
    LICENSE_API_PER_ADDRESS_PER_MINUTE: int
    SESSION_DAYS: int
    PASSWORD_RESET_MINUTES: int
    PASSWORD_RESET_MAX_REQUESTS: int
    PASSWORD_RESET_WINDOW_SECONDS: int
    METRICS_TOKEN: str | None
    ALERT_WAIT_SECONDS: int
    ALERT_FAILURE_RATE: float
    ALERT_COOLDOWN_MINUTES: int
    ALERT_WEBHOOK_URL: str | None
    LOG_LEVEL: str

    # The JSON API and outgoing webhooks.
    API_RATE_LIMIT_PER_MINUTE: int
    WEBHOOK_ALLOW_PRIVATE: bool
    WEBHOOK_TIMEOUT_SECONDS: float
    WEBHOOK_DISABLE_AFTER_DAYS: int


SETTING_NAMES = frozenset(field.name for field in dataclasses.fields(Settings))


def _storage_settings(read, accel_prefix):
    """STORAGE and the bucket's settings. The bucket's are read even with STORAGE=local,
    because `marketplace storage copy --to s3` fills the bucket before the switch."""
    s = {"STORAGE": read.choice("STORAGE", ("local", "s3"), "local")}
    s["S3_BUCKET"] = read.str("S3_BUCKET")
    # SigV4 signs for a region; R2 accepts "auto", MinIO and B2 their own (us-east-1 unless set up otherwise).
    s["S3_REGION"] = read.str("S3_REGION", "us-east-1")
    s["S3_ENDPOINT_URL"] = read.optional_url("S3_ENDPOINT_URL")
    s["S3_ACCESS_KEY_ID"] = read.str("S3_ACCESS_KEY_ID")
    s["S3_SECRET_ACCESS_KEY"] = read.str("S3_SECRET_ACCESS_KEY")
    prefix = (read.str("S3_PREFIX") or "").strip("/")
    if prefix and not re.fullmatch(r"[A-Za-z0-9._/-]+", prefix):
        raise ConfigError(f"S3_PREFIX may hold only letters, digits and . _ - /; got {prefix!r}")
    s["S3_PREFIX"] = f"{prefix}/" if prefix else ""
    s["S3_PUBLIC_URL"] = read.optional_url("S3_PUBLIC_URL")
    # A presigned link is handed out right after the download was counted and followed at
    # once; five minutes cover a slow redirect without making it a link worth sharing.
    s["DOWNLOAD_URL_TTL_SECONDS"] = read.int("DOWNLOAD_URL_TTL_SECONDS", 300, 1, 604800)
    if bool(s["S3_ACCESS_KEY_ID"]) != bool(s["S3_SECRET_ACCESS_KEY"]):
        raise ConfigError("S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY go together: set both, or neither "
                          "to use the machine's own AWS credentials")
    if s["STORAGE"] == "s3":
        if not s["S3_BUCKET"]:
            raise ConfigError("STORAGE=s3 needs S3_BUCKET, the bucket that keeps the shop's files")
        if accel_prefix:
            raise ConfigError("DOWNLOAD_ACCEL_PREFIX serves product files from the local disk; "
                              "unset it with STORAGE=s3 (downloads then redirect to the bucket)")
    if s["STORAGE"] == "s3" and s["S3_PUBLIC_URL"]:
        s["MEDIA_URL"] = f"{s['S3_PUBLIC_URL'].rstrip('/')}/{s['S3_PREFIX']}media"
    else:
        # The shop serves thumbnails itself (from the disk, or read from a private bucket).
        s["MEDIA_URL"] = "/media"
    return s
# Fridays at 06:00 UTC: a week of sales past their hold, paid before the weekend.
DEFAULT_PAYOUT_SCHEDULE = "0 6 * * 5"
_CRON_FIELD = re.compile(r"^(\*|\*/[1-9]\d*|\d+(-\d+)?(,\d+(-\d+)?)*)$")
CRON_FIELDS = ("minute", "hour", "day", "month", "day_of_week")


def payout_schedule(value):
    """A cron line: minute hour day-of-month month day-of-week (0 is Sunday), as the job runtime's crontab reads it."""
    fields = value.split()
    if len(fields) != len(CRON_FIELDS) or not all(_CRON_FIELD.match(field) for field in fields):
        raise ConfigError("PAYOUT_SCHEDULE must be a cron line of five fields (minute hour day month weekday), "
                          f"such as {DEFAULT_PAYOUT_SCHEDULE!r}; got {value!r}")
    return " ".join(fields)


def _local_secret_path(data_dir):
    return data_dir / "app_secret"


def _app_secret(read, app_env, data_dir):
    """APP_SECRET, or in local development the one kept in DATA_DIR (None until start() makes it)."""
    secret = read.str("APP_SECRET")
    if secret:
        if len(secret) < 32:
            raise ConfigError("APP_SECRET must be at least 32 characters long")
        return secret
    if app_env == "production":
        raise ConfigError("APP_SECRET must be set when APP_ENV=production")
    try:
        return _local_secret_path(data_dir).read_text().strip() or None
    except (FileNotFoundError, NotADirectoryError):
        return None


DEFAULT_WEB_BIND = "127.0.0.1:8080"
DEFAULT_APP_URL = "http://127.0.0.1:8080"


def bind_address(bind):
    """(host, port) of a gunicorn bind (127.0.0.1:8080, [::1]:8080, 0.0.0.0:80); None for unix:."""
    if bind.startswith("unix:") or ":" not in bind:
        return None
    host, _, port = bind.rpartition(":")
    try:
        return host.strip("[]"), int(port)
    except ValueError:
        return None


def local_url(bind):
    """The http:// URL at which a server bound to `bind` answers on this machine, or None."""
    address = bind_address(bind)
    if address is None:
        return None
    host, port = address
    if host in ("", "0.0.0.0", "::"):
        host = "::1" if host == "::" else "127.0.0.1"
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def load_settings(environ=None, dotenv=True):
    """The Settings of `environ` (default: os.environ), over the app root's .env when
    `dotenv` is true. Reads, never writes; raises ConfigError naming a bad setting."""
    env = {}
    # The test suite runs with APP_ENV=testing and must not see a developer's .env.
    if dotenv and os.environ.get("APP_ENV") != "testing":
        env.update(read_dotenv(APP_ROOT / ".env"))
    env.update(os.environ if environ is None else environ)
    read = _Reader(env)
    s = {}

    app_env = read.choice("APP_ENV", ENVIRONMENTS, "local")
    data_dir = Path(read.str("DATA_DIR", str(APP_ROOT / "data"))).resolve()

    s["APP_ENV"] = app_env
    s["DEBUG"] = read.bool("DEBUG", False)
    # Unset, APP_URL is where WEB_BIND serves on this machine, so that a changed
    # WEB_BIND takes the test gateway's events and the email links along.
    s["APP_URL"] = read.url("APP_URL", local_url(read.str("WEB_BIND", DEFAULT_WEB_BIND)) or DEFAULT_APP_URL)
    s["APP_NAME"] = read.str("APP_NAME", "Marketplace")
    s["DATA_DIR"] = data_dir
    s["APP_SECRET"] = _app_secret(read, app_env, data_dir)
    s["SECURE_COOKIES"] = s["APP_URL"].startswith("https://")

    database_url = read.str("DATABASE_URL", f"sqlite:///{data_dir / 'marketplace.db'}")
    if urlparse(database_url).scheme not in ("sqlite", "postgres", "postgresql", "postgresext"):
        raise ConfigError(f"DATABASE_URL must be a sqlite:/// or postgresql:// URL; got {database_url!r}")
    s["DATABASE_URL"] = database_url

    s["QUEUE_CONNECTION"] = read.choice("QUEUE_CONNECTION", QUEUE_CONNECTIONS, "sqlite")
    s["QUEUE_NAME"] = read.str("QUEUE_NAME", "marketplace")
    s["QUEUE_SQLITE_PATH"] = data_dir / "queue.db"
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
    s["REDIS_URL"] = redis_url
    if s["QUEUE_CONNECTION"] == "postgres" and not database_url.startswith("postgres"):
        raise ConfigError("QUEUE_CONNECTION=postgres needs DATABASE_URL to be a postgresql:// URL")

    # The job runtime's settings: see shop/runtime.py and README "Job system".
    s["QUEUE_POLL_MAX_DELAY"] = read.float("QUEUE_POLL_MAX_DELAY", 0.25, 0.01)
    s["QUEUE_SWEEP_SECONDS"] = read.int("QUEUE_SWEEP_SECONDS", 15, 1)
    s["QUEUE_WORKER_STALE_SECONDS"] = read.int("QUEUE_WORKER_STALE_SECONDS", 30, 5)
    s["QUEUE_HEARTBEAT_SECONDS"] = read.float("QUEUE_HEARTBEAT_SECONDS", 5, 0.2)
    s["QUEUE_WORKER_MEMORY_MB"] = read.int("QUEUE_WORKER_MEMORY_MB", 0, 0)
    s["QUEUE_WORKER_MAX_SECONDS"] = read.int("QUEUE_WORKER_MAX_SECONDS", 0, 0)
    s["QUEUE_TIMEOUT_GRACE_SECONDS"] = read.float("QUEUE_TIMEOUT_GRACE_SECONDS", 5, 0.1)
    # How workers name their host in heartbeats; two consumers on one machine may pose as two hosts.
    s["QUEUE_HOSTNAME"] = read.str("QUEUE_HOSTNAME", socket.gethostname())
    # Further modules whose jobs the consumer loads (a site's own jobs; the tests' sample jobs).
    s["JOB_MODULES"] = tuple(m.strip() for m in read.str("JOB_MODULES", "").split(",") if m.strip())
    s["QUEUE_ASYNC_COMMIT"] = read.bool("QUEUE_ASYNC_COMMIT", True)
    s["QUEUE_MAX_LOST"] = read.int("QUEUE_MAX_LOST", 10, 1)
    s["QUEUE_JOB_RETENTION_HOURS"] = read.int("QUEUE_JOB_RETENTION_HOURS", 24 * 7, 1)
    s["QUEUE_FAILED_RETENTION_HOURS"] = read.int("QUEUE_FAILED_RETENTION_HOURS", 24 * 30, 1)

    s["STRIPE_SECRET_KEY"] = read.str("STRIPE_SECRET_KEY")
    s["STRIPE_WEBHOOK_SECRET"] = read.str("STRIPE_WEBHOOK_SECRET")
    if bool(s["STRIPE_SECRET_KEY"]) != bool(s["STRIPE_WEBHOOK_SECRET"]):
        missing = "STRIPE_WEBHOOK_SECRET" if s["STRIPE_SECRET_KEY"] else "STRIPE_SECRET_KEY"
        raise ConfigError(f"{missing} must be set too: Stripe needs both keys")
    # Stripe signs the events of connected accounts (a Connect endpoint) with a secret of their own.
    s["STRIPE_CONNECT_WEBHOOK_SECRET"] = read.str("STRIPE_CONNECT_WEBHOOK_SECRET")
    s["STRIPE_API_BASE"] = read.str("STRIPE_API_BASE")
    s["STRIPE_ENABLED"] = bool(s["STRIPE_SECRET_KEY"])

    paytm = {name: read.str(name) for name in ("PAYTM_MID", "PAYTM_MERCHANT_KEY", "PAYTM_WEBSITE")}
    if any(paytm.values()) and not all(paytm.values()):
        missing = next(name for name, value in paytm.items() if not value)
        raise ConfigError(f"{missing} must be set too: Paytm needs PAYTM_MID, PAYTM_MERCHANT_KEY and PAYTM_WEBSITE")
    s.update(paytm)
    s["PAYTM_HOST"] = read.url("PAYTM_HOST", "https://securegw-stage.paytm.in")
    s["PAYTM_ENABLED"] = all(paytm.values())

    # The test-mode gateway only exists when nothing real is configured, and never in production.
    s["TEST_PAYMENTS_ENABLED"] = app_env != "production" and not (s["STRIPE_ENABLED"] or s["PAYTM_ENABLED"])

    s["MAIL_MAILER"] = read.choice("MAIL_MAILER", MAILERS, "file")
    s["MAIL_HOST"] = read.str("MAIL_HOST", "127.0.0.1")
    s["MAIL_PORT"] = read.int("MAIL_PORT", 25, 1, 65535)
    s["MAIL_USERNAME"] = read.str("MAIL_USERNAME")
    s["MAIL_PASSWORD"] = read.str("MAIL_PASSWORD")
    s["MAIL_ENCRYPTION"] = read.choice("MAIL_ENCRYPTION", ("none", "starttls", "tls"), "none")
    s["MAIL_TIMEOUT"] = read.float("MAIL_TIMEOUT", 10, 0.1)
    s["MAIL_FROM"] = read.str("MAIL_FROM", "Marketplace <shop@localhost>")
    s["MAIL_DIR"] = data_dir / "mail"

    s["CURRENCY"] = read.str("CURRENCY", "USD").upper()
    if len(s["CURRENCY"]) != 3 or not s["CURRENCY"].isalpha():
        raise ConfigError(f"CURRENCY must be a three-letter ISO code; got {s['CURRENCY']!r}")
    s["COMMISSION_PERCENT"] = read.percent("COMMISSION_PERCENT", 10.0)
    # A sale stays pending this long, so that a refund can still come back before it is paid out.
    s["PAYOUT_HOLD_DAYS"] = read.int("PAYOUT_HOLD_DAYS", 7, 0)
    # The smallest available balance worth a payout, in minor units of CURRENCY.
    s["PAYOUT_MINIMUM"] = read.int("PAYOUT_MINIMUM", 1000, 0)
    # When the sellers with a connected Stripe account are paid: a cron line in UTC.
    s["PAYOUT_SCHEDULE"] = payout_schedule(read.str("PAYOUT_SCHEDULE", DEFAULT_PAYOUT_SCHEDULE))
    s["DOWNLOAD_LINK_TTL_HOURS"] = read.int("DOWNLOAD_LINK_TTL_HOURS", 48, 1)
    s["DOWNLOAD_LIMIT"] = read.int("DOWNLOAD_LIMIT", 5, 1)
    # How many expired or used-up links one customer may renew from the library in 24 hours.
    s["DOWNLOAD_RENEWALS_PER_DAY"] = read.int("DOWNLOAD_RENEWALS_PER_DAY", 10, 0)
    # A seller's notice of a sale waits this long, so that the sales of a burst make one notice.
    s["SALE_NOTICE_DELAY_SECONDS"] = read.int("SALE_NOTICE_DELAY_SECONDS", 60, 0, 240)
    # A product update to past buyers is mailed at most this many per window, so that a
    # product with thousands of buyers does not flood the mail server.
    s["PRODUCT_UPDATE_MAILS"] = read.int("PRODUCT_UPDATE_MAILS", 60, 1)
    s["PRODUCT_UPDATE_MAIL_WINDOW_SECONDS"] = read.int("PRODUCT_UPDATE_MAIL_WINDOW_SECONDS", 60, 1, 3600)
    s["DOWNLOAD_ACCEL_PREFIX"] = read.str("DOWNLOAD_ACCEL_PREFIX")

    s["UPLOAD_MAX_MB"] = read.int("UPLOAD_MAX_MB", 100, 1)
    s["THUMBNAIL_MAX_MB"] = read.int("THUMBNAIL_MAX_MB", 10, 1)
    s["IMAGE_MAX_PIXELS"] = read.int("IMAGE_MAX_PIXELS", 40_000_000, 1000)
    s["THUMBNAIL_WIDTHS"] = (160, 480, 960)
    s["UPLOADS_DIR"] = data_dir / "products"
    s["MEDIA_DIR"] = data_dir / "media"
    s["INVOICES_DIR"] = data_dir / "invoices"
    s.update(_storage_settings(read, s["DOWNLOAD_ACCEL_PREFIX"]))

    # Who the invoices name as their issuer, as a tax authority reads them. Addresses
    # span lines: a "\n" in the value starts a new one.
    s["SHOP_LEGAL_NAME"] = read.str("SHOP_LEGAL_NAME", s["APP_NAME"])
    s["SHOP_LEGAL_ADDRESS"] = read.str("SHOP_LEGAL_ADDRESS", "").replace("\\n", "\n")
    s["SHOP_COUNTRY"] = read.str("SHOP_COUNTRY", "").upper()
    if s["SHOP_COUNTRY"] and not (len(s["SHOP_COUNTRY"]) == 2 and s["SHOP_COUNTRY"].isalpha()):
        raise ConfigError(f"SHOP_COUNTRY must be a two-letter ISO country code; got {s['SHOP_COUNTRY']!r}")
    s["SHOP_TAX_NUMBER"] = read.str("SHOP_TAX_NUMBER", "")
    s["SHOP_REGISTRATION"] = read.str("SHOP_REGISTRATION", "")
    # "marketplace": the shop sells in its own name (the seller of record, as a platform is
    # deemed to be for digital services in the EU and the UK) and owes the tax.
    # "seller": the shop invoices in each seller's name, on their behalf, printing their details.
    s["INVOICE_ISSUER"] = read.choice("INVOICE_ISSUER", ("marketplace", "seller"), "marketplace")
    # "attach": the PDF is drawn at payment and attached to the invoice's email; "link": the
    # number is still given at payment (in sale order), and the email links to the invoice,
    # whose PDF is drawn when it is first asked for (the purchase's costliest step, skipped).
    s["INVOICE_DELIVERY"] = read.choice("INVOICE_DELIVERY", ("attach", "link"), "attach")
    # "table": the rates of TAX_RATES_FILE; "stripe": Stripe Tax works the tax out on its
    # checkout page (automatic_tax); "off": no tax is charged.
    s["TAX_CALCULATION"] = read.choice("TAX_CALCULATION", ("table", "stripe", "off"), "table")
    if s["TAX_CALCULATION"] == "stripe" and not s["STRIPE_ENABLED"]:
        raise ConfigError("TAX_CALCULATION=stripe needs Stripe: set STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET")
    s["PRICES_INCLUDE_TAX"] = read.bool("PRICES_INCLUDE_TAX", True)
    s["TAX_RATES_FILE"] = Path(read.str("TAX_RATES_FILE", str(_SOURCE_ROOT / "shop" / "tax" / "rates.json")))

    s["WEB_BIND"] = read.str("WEB_BIND", DEFAULT_WEB_BIND)
    s["WEB_CONCURRENCY"] = read.int("WEB_CONCURRENCY", 2, 1)
    s["WEB_THREADS"] = read.int("WEB_THREADS", 4, 1)
    s["LOGIN_MAX_FAILURES"] = read.int("LOGIN_MAX_FAILURES", 5, 1)
    s["LOGIN_LOCKOUT_SECONDS"] = read.int("LOGIN_LOCKOUT_SECONDS", 300, 1)
    # The public license API needs no secret, so it is rate limited: calls per minute for
    # one license key, and from one address (a guesser of keys, or a loop gone wrong).
    s["LICENSE_API_PER_KEY_PER_MINUTE"] = read.int("LICENSE_API_PER_KEY_PER_MINUTE", 30, 1)
    s["LICENSE_API_PER_ADDRESS_PER_MINUTE"] = read.int("LICENSE_API_PER_ADDRESS_PER_MINUTE", 120, 1)
    s["SESSION_DAYS"] = read.int("SESSION_DAYS", 14, 1)
    # A reset link works once, for an hour; an address or an account asks for a few an hour at most.
    s["PASSWORD_RESET_MINUTES"] = read.int("PASSWORD_RESET_MINUTES", 60, 1)
    s["PASSWORD_RESET_MAX_REQUESTS"] = read.int("PASSWORD_RESET_MAX_REQUESTS", 3, 1)
    s["PASSWORD_RESET_WINDOW_SECONDS"] = read.int("PASSWORD_RESET_WINDOW_SECONDS", 3600, 1)
    s["METRICS_TOKEN"] = read.str("METRICS_TOKEN")
    s["ALERT_WAIT_SECONDS"] = read.int("ALERT_WAIT_SECONDS", 120, 1)
    s["ALERT_FAILURE_RATE"] = read.percent("ALERT_FAILURE_RATE", 20.0)
    s["ALERT_COOLDOWN_MINUTES"] = read.int("ALERT_COOLDOWN_MINUTES", 30, 1)
    s["ALERT_WEBHOOK_URL"] = read.optional_url("ALERT_WEBHOOK_URL")
    s["LOG_LEVEL"] = read.choice("LOG_LEVEL", ("debug", "info", "warning", "error"), "info").upper()
    # Requests per minute that one API token may make.
    s["API_RATE_LIMIT_PER_MINUTE"] = read.int("API_RATE_LIMIT_PER_MINUTE", 120, 1)
    # Webhook deliveries to loopback, private and link-local addresses are refused unless
    # the owner allows them (a receiver on the shop's own network).
    s["WEBHOOK_ALLOW_PRIVATE"] = read.bool("WEBHOOK_ALLOW_PRIVATE", False)
    s["WEBHOOK_TIMEOUT_SECONDS"] = read.float("WEBHOOK_TIMEOUT_SECONDS", 10.0, 0.1)
    if s["WEBHOOK_TIMEOUT_SECONDS"] > 50:
        # The delivery job stops after 60 s: a longer wait would be cut short as a timed-out job.
        raise ConfigError("WEBHOOK_TIMEOUT_SECONDS must be at most 50")
    s["WEBHOOK_DISABLE_AFTER_DAYS"] = read.int("WEBHOOK_DISABLE_AFTER_DAYS", 3, 1)
    return Settings(**s)


# ---------------------------------------------------------------------------
# The current settings of this process
# ---------------------------------------------------------------------------

_current = None


def configure(environ=None, dotenv=True):
    """Load the settings of `environ` (see load_settings) and make them the current ones."""
    return use(load_settings(environ, dotenv))


def use(settings):
    """Make `settings` the ones every `config.NAME` reads; returns them."""
    global _current
    _current = settings
    return settings


def current():
    """The current Settings, loaded from the environment on first use."""
    return _current if _current is not None else configure()


def __getattr__(name):
    # `config.UPLOAD_MAX_MB` reads the current Settings, so callers need no handle on them.
    if name in SETTING_NAMES:
        return getattr(current(), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# ---------------------------------------------------------------------------
# Start-up
# ---------------------------------------------------------------------------


def prepare_data_dir(settings=None):
    """Create DATA_DIR and, in local development without APP_SECRET, generate the
    secret once and keep it there (readable by the owner only). Returns the settings
    with the secret filled in, now the current ones."""
    settings = settings or current()
    try:
        settings.DATA_DIR.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"DATA_DIR {settings.DATA_DIR} cannot be created: {exc.strerror}") from None
    if settings.APP_SECRET is None:
        settings = dataclasses.replace(settings, APP_SECRET=_keep_local_secret(settings.DATA_DIR))
    return use(settings)


def _keep_local_secret(data_dir):
    path = _local_secret_path(data_dir)
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    secret = secrets.token_urlsafe(48)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # pragma: no cover - another process won the race
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(secret)
    return secret


def start():
    """A process's first step (web app, consumer, CLI): the current settings, checked,
    with DATA_DIR ready. Raises ConfigError naming a bad setting."""
    return prepare_data_dir(current())


def start_or_exit():
    """start(), for an entry point that others import (gunicorn's marketplace:app,
    huey_consumer's tasks.huey): a bad setting stops the process with one line."""
    try:
        return start()
    except ConfigError as exc:
        raise SystemExit(f"Configuration error: {exc}") from None
