"""The one mailer: SMTP when MAIL_MAILER=smtp, otherwise .eml files under data/mail/.

Every message has a key (for example "product-approved:17"). The first send records
it in OutboundMail and marks it sent once the server has accepted it; sending the
same key again does nothing, so a job that runs twice mails once.

Under a kill the promise is at least once, with the same Message-ID: a consumer
killed after the delivery and before the record of it commits sends the message
again on the next attempt. That window is kept as short as the mailer can make
it: everything slow (the message, its attachments, the SMTP connection and login)
is done before the delivery, and the record is written straight after it. The
file mailer writes the file first and gives it its name inside the transaction
that records it, after the record's update, so its window is the commit alone
(a kill before that leaves only a hidden partial file); an SMTP delivery is not held inside a transaction (SQLite
has one writer, and a slow mail server must not stop the shop's writes), so its
window also holds the wait for the database's write lock. Every resend carries the
Message-ID the key gave the first, and mail clients fold the two into one.
"""

import hashlib
import logging
import os
import secrets
import smtplib
import socket
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from peewee import IntegrityError

from shop import config
from shop.errors import MailError
from models import OutboundMail, db, utcnow

log = logging.getLogger(__name__)


def _message_id(key):
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]
    domain = config.MAIL_FROM.rpartition("@")[2].strip(">") or "localhost"
    return f"<{digest}@{domain}>"


def build_message(to, subject, text, html=None, attachments=(), message_id=None):
    message = EmailMessage()
    message["From"] = config.MAIL_FROM
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = message_id or make_msgid()
    message.set_content(text)
    if html:
        message.add_alternative(html, subtype="html")
    for filename, content, mimetype in attachments:
        maintype, _, subtype = mimetype.partition("/")
        message.add_attachment(content, maintype=maintype, subtype=subtype, filename=filename)
    return message


# ---------------------------------------------------------------------------
# Deliveries
# ---------------------------------------------------------------------------


def _smtp_session():
    """A connection to the mail server, greeted, encrypted and logged in: ready for a message."""
    try:
        if config.MAIL_ENCRYPTION == "tls":
            server = smtplib.SMTP_SSL(
                config.MAIL_HOST, config.MAIL_PORT, timeout=config.MAIL_TIMEOUT,
                context=ssl.create_default_context(),
            )
        else:
            server = smtplib.SMTP(config.MAIL_HOST, config.MAIL_PORT, timeout=config.MAIL_TIMEOUT)
        try:
            server.ehlo_or_helo_if_needed()
            if config.MAIL_ENCRYPTION == "starttls":
                server.starttls(context=ssl.create_default_context())
            if config.MAIL_USERNAME:
                server.login(config.MAIL_USERNAME, config.MAIL_PASSWORD or "")
        except BaseException:
            server.close()
            raise
        return server
    except (smtplib.SMTPException, OSError, socket.timeout) as exc:
        raise MailError(f"SMTP {config.MAIL_HOST}:{config.MAIL_PORT}: {exc}") from exc


def _smtp_send(server, message):
    try:
        server.send_message(message)
    except (smtplib.SMTPException, OSError, socket.timeout) as exc:
        raise MailError(f"SMTP {config.MAIL_HOST}:{config.MAIL_PORT}: {exc}") from exc


def _smtp_quit(server):
    # The message is accepted and recorded; a server that drops the goodbye changes nothing.
    try:
        server.quit()
    except (smtplib.SMTPException, OSError, socket.timeout):
        server.close()


def delivery_name(key):
    """A new file name for one delivery of `key`: data/mail/<time>-<key digest>-<random>.eml.

    Every delivery gets a name of its own, so a message sent twice shows as two
    files; the key digest in the middle is the same for both.
    """
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]
    return f"{utcnow():%Y%m%dT%H%M%S%f}-{digest}-{secrets.token_hex(4)}.eml"


def _write_partial(message, key):
    """The message's bytes in a new hidden file under MAIL_DIR; returns (partial path, final name)."""
    try:
        config.MAIL_DIR.mkdir(parents=True, exist_ok=True)
        name = delivery_name(key)
        partial = config.MAIL_DIR / f".{name}.partial"
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
        with os.fdopen(descriptor, "wb") as file:
            file.write(bytes(message))
        return partial, name
    except OSError as exc:
        raise MailError(f"mail folder {config.MAIL_DIR}: {exc}") from exc


def _publish(partial, name):
    """Give the written file its name: the delivery. A hard link never replaces a file that exists."""
    try:
        os.link(partial, config.MAIL_DIR / name)
    except OSError as exc:
        raise MailError(f"mail folder {config.MAIL_DIR}: {exc}") from exc


# ---------------------------------------------------------------------------
# Sending once per key
# ---------------------------------------------------------------------------


def _record(key, to, subject):
    try:
        with db.atomic():
            return OutboundMail.create(key=key, to=to, subject=subject, message_id=_message_id(key))
    except IntegrityError:
        return OutboundMail.get(OutboundMail.key == key)


def _claim(record, as_sent=False):
    """Count an attempt at the record if it is still unsent; False if it was sent meanwhile.
    `as_sent` marks it sent in the same statement, for a delivery made inside the same
    transaction (the file mailer's).

    The conditional UPDATE also takes the row's lock, so inside a transaction a
    second sender of the same key waits and then finds it sent.
    """
    changes = {"attempts": OutboundMail.attempts + 1}
    if as_sent:
        changes.update(sent_at=utcnow(), last_error=None)
    return OutboundMail.update(**changes).where(
        (OutboundMail.id == record.id) & OutboundMail.sent_at.is_null()).execute() == 1


def _mark_sent(record):
    OutboundMail.update(sent_at=utcnow(), last_error=None).where(OutboundMail.id == record.id).execute()


def _mark_failed(record, exc):
    OutboundMail.update(attempts=OutboundMail.attempts + 1, last_error=str(exc)[:1000]).where(
        OutboundMail.id == record.id).execute()


def _send_to_file(record, message):
    """Deliver into the mail folder inside the transaction that records it.

    The file is written and the record updated first; only then does the file get
    its name, and the commit follows at once: a kill between those two is the one
    moment that sends the message again.
    """
    partial, name = _write_partial(message, record.key)
    try:
        with db.atomic():
            if not _claim(record, as_sent=True):
                return False
            _publish(partial, name)
    except MailError as exc:
        _mark_failed(record, exc)
        raise
    finally:
        os.unlink(partial)
    return True


def _send_by_smtp(record, message):
    try:
        server = _smtp_session()
    except MailError as exc:
        _mark_failed(record, exc)
        raise
    try:
        if not _claim(record):
            return False
        try:
            _smtp_send(server, message)
        except MailError as exc:
            OutboundMail.update(last_error=str(exc)[:1000]).where(OutboundMail.id == record.id).execute()
            raise
        _mark_sent(record)
    finally:
        _smtp_quit(server)
    return True


def send(key, to, subject, text, html=None, attachments=()):
    """Send one message once. Returns False when `key` was already sent.

    Raises MailError when the server is unreachable or refuses; the caller's job
    is retried and the next attempt sends the same message with the same id.
    """
    record = _record(key, to, subject)
    if record.sent_at is not None:
        log.info("mail %s already sent at %s; not sending again", key, record.sent_at)
        return False
    message = build_message(to, subject, text, html, attachments, message_id=record.message_id)
    send_ = _send_by_smtp if config.MAIL_MAILER == "smtp" else _send_to_file
    if not send_(record, message):
        log.info("mail %s was sent meanwhile; not sending again", key)
        return False
    log.info("mail %s sent to %s", key, to)
    return True
