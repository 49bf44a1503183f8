"""A real SMTP server for a test (aiosmtpd), on the port the mailer is set to."""

from email import message_from_bytes
from email import policy

import pytest
from aiosmtpd.controller import Controller

from tests.conftest import free_port


class Inbox:
    """An aiosmtpd handler that keeps what it accepts, and can refuse the first few messages."""

    def __init__(self, refuse=0):
        self.refuse = refuse
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        if self.refuse:
            self.refuse -= 1
            return "451 4.3.0 Mailbox busy, try again later"
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


@pytest.fixture
def smtp(app_env):
    """start(refuse=0) -> Inbox: a real SMTP server on the port the mailer is set to."""
    port = free_port()
    app_env.reload(MAIL_MAILER="smtp", MAIL_HOST="127.0.0.1", MAIL_PORT=port, MAIL_TIMEOUT=5)
    controllers = []

    def start(refuse=0):
        inbox = Inbox(refuse)
        controller = Controller(inbox, hostname="127.0.0.1", port=port)
        controller.start()
        controllers.append(controller)
        return inbox

    yield start
    for controller in controllers:
        controller.stop()
