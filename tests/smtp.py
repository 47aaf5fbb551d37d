"""A real SMTP server for tests: aiosmtpd on a free loopback port, keeping what it receives."""

import asyncio
import email
import email.policy
import threading
from email.message import EmailMessage

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from tests.pgserver import free_port


class MailSink:
    """Accepts every message (or answers 451 to the next `defer` ones) and keeps the accepted ones.

    `hold` > 0: the next `hold` messages are kept but their "250 OK" waits for `release()`, as
    a server that has taken a message while its sender has not yet heard so."""

    def __init__(self) -> None:
        self.port = free_port()
        self.received: list[tuple[Envelope, EmailMessage]] = []
        self.defer = 0
        self.hold = 0
        self._released = threading.Event()
        self.refuse: set[str] = set()
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options
    ) -> str:
        if address in self.refuse:
            return "550 5.1.1 No such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.defer > 0:
            self.defer -= 1
            return "451 4.3.0 Try again later"
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.received.append((envelope, message))
        if self.hold > 0:
            self.hold -= 1
            while not self._released.is_set():
                await asyncio.sleep(0.02)
        return "250 OK"

    def release(self) -> None:
        """Answer the held messages (their senders may be gone by now)."""
        self._released.set()

    @property
    def messages(self) -> list[EmailMessage]:
        return [message for _, message in self.received]

    def clear(self) -> None:
        self.received.clear()
        self.defer = 0
        self.hold = 0
        self._released.set()
        self._released = threading.Event()
        self.refuse.clear()

    def start(self) -> "MailSink":
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def config(self, app_config) -> dict:
        """The app's config pointed at this server."""
        return dict(app_config) | {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": self.port, "SMTP_TIMEOUT": 5}
