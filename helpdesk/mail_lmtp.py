"""`helpdesk mail-in`: the LMTP server a mail server (Postfix, Dovecot) hands incoming mail to.

Each recipient is answered only once the raw message is committed to the inbox table: a "250" means
stored, a "451" (the database is unavailable) makes the mail server keep the message and try
again. Processing happens afterwards, in a worker (services/mail_intake.py)."""

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import SMTP, Envelope, Session

from helpdesk.services import mail_intake

log = logging.getLogger(__name__)


class IntakeHandler:
    """Stores each message it is given, once, however many recipients it names."""

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        """One reply per recipient (RFC 2033), after the message is stored."""
        raw = envelope.original_content or envelope.content
        raw = raw if isinstance(raw, bytes) else str(raw).encode("utf-8", "surrogateescape")
        try:
            row, new = await mail_intake.store(raw, via="lmtp", recipients=list(envelope.rcpt_tos))
        except Exception:  # noqa: BLE001 - any failure to store means "try again later", never "lost"
            log.exception("mail-in: message not stored")
            reply = "451 4.3.0 Not stored, try again later"
        else:
            log.info("mail-in: message %s %s", row.id, "stored" if new else "already stored")
            reply = "250 2.0.0 Stored"
        return "\r\n".join(reply for _ in envelope.rcpt_tos) or reply


async def start_server(host: str, port: int, config: Mapping[str, Any]) -> asyncio.Server:
    """Listen for LMTP on host:port in the running event loop (the ORM's)."""
    handler = IntakeHandler()
    limit = int(config.get("MAIL_IN_MAX_BYTES", mail_intake.LONGEST_RAW))
    loop = asyncio.get_running_loop()
    return await loop.create_server(
        lambda: LMTP(handler, data_size_limit=limit, enable_SMTPUTF8=True, decode_data=False,
                     hostname="helpdesk", ident="helpdesk mail-in"),
        host=host, port=port,
    )  # fmt: skip


async def serve(host: str, port: int, config: Mapping[str, Any]) -> None:
    """Receive by LMTP and process what is stored, until cancelled."""
    server = await start_server(host, port, config)
    log.info("mail-in: LMTP on %s:%s", host, port)
    async with server:
        await mail_intake.run_worker(config)
