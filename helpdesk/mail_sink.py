"""The development mail sink `make run` starts: prints each email the app sends, decoded.

aiosmtpd's Debugging handler prints the raw message, whose quoted-printable body breaks a
confirmation link across lines with `=` at each end; this one prints what a person reads."""

import email
import email.policy
import re
import sys
from email.message import EmailMessage
from typing import TextIO

from aiosmtpd.smtp import SMTP, Envelope, Session

HEADERS = ("From", "To", "Cc", "Subject", "Date", "Message-ID")
LINK = re.compile(r"""https?://[^\s"'<>]+""")


class PrintingHandler:
    """An aiosmtpd handler (`-c helpdesk.mail_sink.PrintingHandler`) that accepts every message
    and prints its headers, its text part and every link, whole."""

    def __init__(self, out: TextIO | None = None) -> None:
        self.out = out

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        """Print the message and accept it."""
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        print(describe(message, envelope.rcpt_tos), file=self.out or sys.stdout, flush=True)
        return "250 OK"


def describe(message: EmailMessage, recipients: list[str]) -> str:
    """The message as the terminal shows it: headers, decoded text part, the links it carries."""
    lines = ["---------- email ----------"]
    lines += [f"{name}: {message[name]}" for name in HEADERS if message[name]]
    lines.append(f"Envelope-To: {', '.join(recipients)}")
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    body = text.get_content() if text is not None else ""
    lines += ["", body.rstrip()]
    links = dict.fromkeys(LINK.findall(body) + (LINK.findall(html.get_content()) if html is not None else []))
    if links:
        lines += ["", "Links:", *[f"  {link}" for link in links]]
    lines.append("---------- end ----------")
    return "\n".join(lines)
