"""The one mailer: SMTP when MAIL_MAILER=smtp, otherwise .eml files under data/mail/.

Every message has a key (for example "product-approved:17"). The first send records
it in OutboundMail and marks it sent once the server has accepted it; sending the
same key again does nothing, so a job that runs twice mails once.
"""

import hashlib
import logging
import os
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


def _deliver_smtp(message):
    try:
        if config.MAIL_ENCRYPTION == "tls":
            server = smtplib.SMTP_SSL(
                config.MAIL_HOST, config.MAIL_PORT, timeout=config.MAIL_TIMEOUT,
                context=ssl.create_default_context(),
            )
        else:
            server = smtplib.SMTP(config.MAIL_HOST, config.MAIL_PORT, timeout=config.MAIL_TIMEOUT)
        with server:
            if config.MAIL_ENCRYPTION == "starttls":
                server.starttls(context=ssl.create_default_context())
            if config.MAIL_USERNAME:
                server.login(config.MAIL_USERNAME, config.MAIL_PASSWORD or "")
            server.send_message(message)
    except (smtplib.SMTPException, OSError, socket.timeout) as exc:
        raise MailError(f"SMTP {config.MAIL_HOST}:{config.MAIL_PORT}: {exc}") from exc


def _deliver_file(message, record):
    """Write the message as data/mail/<created>-<key digest>.eml, atomically.

    The name depends only on the record, so writing it again replaces the file.
    """
    config.MAIL_DIR.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256(record.key.encode("utf-8")).hexdigest()[:16]
    name = f"{record.created_at:%Y%m%dT%H%M%S}-{digest}.eml"
    partial = config.MAIL_DIR / f".{name}.partial"
    partial.write_bytes(bytes(message))
    os.replace(partial, config.MAIL_DIR / name)


def send(key, to, subject, text, html=None, attachments=()):
    """Send one message once. Returns False when `key` was already sent.

    Raises MailError when the server is unreachable or refuses; the caller's job
    is retried and the next attempt sends the same message with the same id.
    """
    try:
        with db.atomic():
            record = OutboundMail.create(key=key, to=to, subject=subject, message_id=_message_id(key))
    except IntegrityError:
        record = OutboundMail.get(OutboundMail.key == key)
    if record.sent_at is not None:
        log.info("mail %s already sent at %s; not sending again", key, record.sent_at)
        return False

    message = build_message(to, subject, text, html, attachments, message_id=record.message_id)
    try:
        if config.MAIL_MAILER == "smtp":
            _deliver_smtp(message)
        else:
            _deliver_file(message, record)
    except MailError as exc:
        OutboundMail.update(attempts=OutboundMail.attempts + 1, last_error=str(exc)[:1000]).where(
            OutboundMail.id == record.id
        ).execute()
        raise
    OutboundMail.update(sent_at=utcnow(), attempts=OutboundMail.attempts + 1, last_error=None).where(
        OutboundMail.id == record.id
    ).execute()
    log.info("mail %s sent to %s", key, to)
    return True
