"""Named errors for every kind of expected failure.

The web layer turns them into 4xx pages or JSON; the job runtime decides from
them whether a job is retried. Anything else is a bug: it is logged with its
traceback and the visitor sees a plain 500 page.
"""


class MarketplaceError(Exception):
    """Base class of the errors this project raises on purpose."""

    status = 400


class ConfigError(MarketplaceError):
    """A setting is missing or malformed; start-up stops with this message."""


class ValidationError(MarketplaceError):
    """Input that fails validation. `errors` maps field names to messages."""

    status = 400

    def __init__(self, message="Please correct the errors below.", errors=None):
        super().__init__(message)
        self.errors = errors or {}


class NotFound(MarketplaceError):
    status = 404


class Forbidden(MarketplaceError):
    status = 403


class TooManyRequests(MarketplaceError):
    status = 429

    def __init__(self, message, retry_after=60):
        super().__init__(message)
        self.retry_after = int(retry_after)


class PayloadTooLarge(MarketplaceError):
    status = 413


class NotAnImage(ValidationError):
    """An upload that Pillow cannot read as an image, or one too large to decode."""


class MailError(MarketplaceError):
    """The mail server refused or could not be reached; the job retries."""


class PaymentError(MarketplaceError):
    """A gateway answered with an error or a payment does not match its order."""


class WebhookError(MarketplaceError):
    """A webhook that is forged, stale, malformed or oversize: refused with a 4xx."""

    status = 400


class BackupError(MarketplaceError):
    """`marketplace backup` could not make a complete backup; the message says why."""


class DatabaseCopyError(MarketplaceError):
    """`marketplace copy-database` refused or failed; nothing was copied."""


class SchemaMismatch(MarketplaceError):
    """The database's schema version is not the one this code was written for; the
    message is one line that says what to run."""


class MigrationError(MarketplaceError):
    """A migration failed; the database is as it was before `marketplace migrate`."""


class StorageError(MarketplaceError):
    """The file store (the disk or the bucket) could not do what was asked; the message says which."""

    status = 503


class MissingObject(StorageError):
    """No stored file under the key."""

    status = 404
