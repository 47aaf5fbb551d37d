"""Reading an incoming message: its addresses, threading headers, text, attachments, whether a
machine sent it, and what a delivery-status notification (RFC 3464) says bounced.

Pure functions over the raw bytes, no database: every message shape gives a ParsedMail or a
MailRefused with the reason; the standard library's parser is lenient and the rest is guarded.
"""

import email
import email.policy
import hashlib
import re
from dataclasses import dataclass, field
from email.message import EmailMessage, Message
from email.utils import getaddresses, parseaddr
from html.parser import HTMLParser

from helpdesk.services.outbox import header_value

MESSAGE_ID = re.compile(r"<[^<>\s]{1,250}>")
BLOCKS = {"p", "div", "br", "li", "tr", "table", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "hr", "pre"}
HIDDEN = {"script", "style", "head", "title", "template"}
LONGEST_BODY = 100_000  # characters of text kept from one message


class MailRefused(Exception):
    """The message cannot be acted on; the reason is shown to admins."""


@dataclass
class MailAttachment:
    """One MIME part that is not the body: a file or an inline image, with its bytes."""

    filename: str
    content_type: str
    data: bytes
    inline: bool = False
    content_id: str = ""


@dataclass
class Bounce:
    """What a delivery-status notification says: the recipients that failed, and the Message-ID of
    the message that bounced (from the returned message or its headers)."""

    original_message_id: str
    failed: list[str]
    status: str = ""


@dataclass
class ParsedMail:
    message_id: str
    sender: str  # the From address, lowercased ("" when there is none)
    sender_name: str
    subject: str
    recipients: list[str]  # To, Cc and Delivered-To addresses, lowercased
    references: list[str]  # In-Reply-To then References, each a <message-id>
    text: str  # the whole body as text (HTML-only mail converted), quotes and all
    attachments: list[MailAttachment] = field(default_factory=list)
    automatic: str = ""  # why a machine sent it (Auto-Submitted, Precedence, List-*), else ""
    bounce: Bounce | None = None


def message_key(raw: bytes) -> str:
    """What makes a stored message unique: its Message-ID, or a digest of its bytes when it has none."""
    head = raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    found = re.search(rb"^message-id:[ \t]*(.*(?:\r?\n[ \t].*)*)", head, re.IGNORECASE | re.MULTILINE)
    if found:
        ids = MESSAGE_ID.findall(found.group(1).decode("ascii", "replace"))
        if ids:
            return ids[0][:255]
    return f"sha256:{hashlib.sha256(raw).hexdigest()}"


def parse(raw: bytes) -> ParsedMail:
    """The parts of a message the intake acts on; MailRefused when it has no sender or no content."""
    message = email.message_from_bytes(raw, policy=email.policy.default)
    name, sender = _address(message, "From")
    if not sender:
        raise MailRefused("The message has no From address.")
    text, attachments = _body_and_attachments(message)
    return ParsedMail(
        message_id=message_key(raw),
        sender=sender,
        sender_name=name,
        subject=_header(message, "Subject")[:500],
        recipients=_recipients(message),
        references=_references(message),
        text=text[:LONGEST_BODY],
        attachments=attachments,
        automatic=automatic_reason(message),
        bounce=_bounce(message),
    )


def _header(message: Message, name: str) -> str:
    """A header's decoded value (RFC 2047 words decoded), on one line; "" when absent or unreadable."""
    try:
        value = message.get(name)
        return header_value(str(value)) if value is not None else ""
    except (ValueError, IndexError, TypeError, LookupError, AttributeError):  # undecodable: as if absent
        return ""


def _address(message: Message, name: str) -> tuple[str, str]:
    display, address = parseaddr(_header(message, name))
    return display, address.strip().lower() if "@" in address else ""


def _recipients(message: Message) -> list[str]:
    values = [_header(message, name) for name in ("To", "Cc", "Delivered-To", "X-Original-To")]
    return [address.lower() for _, address in getaddresses(values) if "@" in address]


def _references(message: Message) -> list[str]:
    """The Message-IDs the message answers, nearest first."""
    ids = MESSAGE_ID.findall(_header(message, "In-Reply-To"))
    ids += reversed(MESSAGE_ID.findall(_header(message, "References")))
    return list(dict.fromkeys(ids))[:50]


def automatic_reason(message: Message) -> str:
    """Why the message was sent by a machine (RFC 3834 and common practice), or "" for a person's."""
    submitted = _header(message, "Auto-Submitted").split(";")[0].strip().lower()
    if submitted and submitted != "no":
        return f"Auto-Submitted: {submitted}"
    precedence = _header(message, "Precedence").lower()
    if precedence in ("bulk", "junk", "list", "auto_reply"):
        return f"Precedence: {precedence}"
    for name in ("X-Autoreply", "X-Autorespond", "X-Auto-Reply"):
        if message.get(name) is not None:
            return f"{name} header"
    listed = next((key for key in message.keys() if key.lower().startswith("list-")), None)
    if listed:
        return f"mailing-list mail ({listed})"
    if _header(message, "Return-Path").replace(" ", "") == "<>":
        return "a null Return-Path (a bounce or a report)"
    if _address(message, "From")[1].partition("@")[0] in ("mailer-daemon", "postmaster"):
        return "from a mail system (MAILER-DAEMON)"
    return ""


def part_text(part: Message) -> str:
    """A text part's content as str, whatever its transfer encoding or (possibly wrong) charset."""
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    charset = part.get_content_charset() or "us-ascii"
    try:
        return payload.decode(charset, "replace")
    except LookupError:  # a charset Python does not know: read it as UTF-8, replacing what does not fit
        return payload.decode("utf-8", "replace")


def _body_and_attachments(message: Message) -> tuple[str, list[MailAttachment]]:
    """The body as text (plain preferred, else HTML converted) and every other leaf part as a file."""
    body: Message | None = None
    if isinstance(message, EmailMessage):
        try:
            body = message.get_body(preferencelist=("plain", "html"))
        except (KeyError, ValueError, TypeError, AttributeError):  # malformed MIME: fall back to a walk
            body = None
    leaves = [part for part in message.walk() if not part.is_multipart()]
    if body is None:
        body = next((p for p in leaves if p.get_content_type() in ("text/plain", "text/html")), None)
    text = ""
    if body is not None:
        content = part_text(body)
        text = html_to_text(content) if body.get_content_type() == "text/html" else content
    alternatives = _alternatives_of(message, body)
    attachments = [_attachment(part) for part in leaves if part is not body and id(part) not in alternatives]
    return text.replace("\r\n", "\n").strip(), [a for a in attachments if a is not None]


def _alternatives_of(message: Message, body: Message | None) -> set[int]:
    """The ids of the body's other renderings (the HTML of a multipart/alternative), which are not files."""
    for part in message.walk():
        if part.get_content_type() == "multipart/alternative":
            children = part.get_payload()
            if isinstance(children, list) and any(child is body for child in children):
                return {id(child) for child in children if child.get_content_maintype() == "text"}
    return set()


def _attachment(part: Message) -> MailAttachment | None:
    """A leaf part as a file; None for what carries nothing (an empty part, a delivery report's fields)."""
    if part.get_content_type() in ("message/delivery-status", "text/rfc822-headers"):
        return None
    try:
        filename = part.get_filename() or ""
    except (ValueError, LookupError, TypeError):
        filename = ""
    data = part.get_payload(decode=True)
    if not isinstance(data, bytes) or not data:
        return None
    disposition = (part.get_content_disposition() or "").lower()
    return MailAttachment(
        filename=header_value(filename)[:255] or "attachment",
        content_type=part.get_content_type(),
        data=data,
        inline=disposition == "inline" or bool(part.get("Content-ID")),
        content_id=_header(part, "Content-ID"),
    )


def _bounce(message: Message) -> Bounce | None:
    """The failed recipients and bounced Message-ID of an RFC 3464 report; None for other mail."""
    if message.get_content_type() != "multipart/report":
        return None
    if (message.get_param("report-type") or "").lower() != "delivery-status":
        return None
    failed, status, original = [], "", ""
    for part in message.walk():
        kind = part.get_content_type()
        if kind == "message/delivery-status":
            for block in _status_blocks(part):
                if (block.get("Action") or "").strip().lower() == "failed":
                    _, address = parseaddr(str(block.get("Final-Recipient", "")).split(";")[-1])
                    if "@" in address:
                        failed.append(address.strip().lower())
                        status = status or str(block.get("Status", "")).strip()
        elif kind in ("message/rfc822", "text/rfc822-headers", "message/rfc822-headers") and not original:
            original = _returned_message_id(part)
    return Bounce(original, failed, status[:40])


def _status_blocks(part: Message) -> list[Message]:
    """The per-message and per-recipient field blocks of a message/delivery-status part."""
    payload = part.get_payload()
    if isinstance(payload, list):
        return [block for block in payload if isinstance(block, Message)]
    text = part_text(part) if isinstance(payload, str) else ""
    return [email.message_from_string(chunk) for chunk in re.split(r"\r?\n\r?\n", text) if chunk.strip()]


def _returned_message_id(part: Message) -> str:
    payload = part.get_payload()
    if isinstance(payload, list) and payload and isinstance(payload[0], Message):
        headers = payload[0]
    else:
        headers = email.message_from_string(part_text(part))
    found = MESSAGE_ID.findall(str(headers.get("Message-ID", "")))
    return found[0] if found else ""


class _TextOfHtml(HTMLParser):
    """HTML as plain text: blocks on their own lines, quoted blocks prefixed `> `, nothing hidden,
    no markup at all (entities decoded); links keep their address after the text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = [""]
        self.hidden = 0
        self.quoted = 0
        self.href: str | None = None
        self.space = False  # the text so far ended with whitespace

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in HIDDEN:
            self.hidden += 1
        elif tag == "blockquote":
            self.quoted += 1
            self._break()
        elif tag in BLOCKS:
            self._break()
        elif tag == "a":
            self.href = dict(attrs).get("href")

    def handle_endtag(self, tag: str) -> None:
        if tag in HIDDEN:
            self.hidden = max(0, self.hidden - 1)
        elif tag == "blockquote":
            self.quoted = max(0, self.quoted - 1)
            self._break()
        elif tag in BLOCKS:
            self._break()
        elif tag == "a" and self.href:
            if self.href.startswith(("http://", "https://", "mailto:")) and self.href not in self.lines[-1]:
                self.lines[-1] += f" <{self.href}>"
            self.href = None

    def handle_data(self, data: str) -> None:
        if self.hidden:
            return
        words = " ".join(data.split())
        if words:
            if not self.lines[-1]:
                self.lines[-1] = "> " * self.quoted
            elif not self.lines[-1].endswith(" ") and (self.space or data[:1].isspace()):
                words = " " + words
            self.lines[-1] += words
        self.space = data[-1:].isspace() if data else self.space

    def _break(self) -> None:
        if self.lines[-1].strip(" >"):
            self.lines.append("")


def html_to_text(html: str) -> str:
    """Plain text of an HTML body: no tag, script or style survives, so nothing of it is ever rendered."""
    parser = _TextOfHtml()
    parser.feed(html)
    parser.close()
    return "\n".join(line.rstrip() for line in parser.lines).strip()


# What starts quoted history in a reply: Gmail's and Apple's "On <date>, <name> wrote:", Outlook's
# separator line or its From:/Sent: block, and a signature's "-- " line.
_QUOTE_STARTS = (
    re.compile(r"^\s*On .{0,300}wrote:\s*$", re.IGNORECASE),
    re.compile(r"^\s*Le .{0,300}a écrit\s*:\s*$", re.IGNORECASE),
    re.compile(r"^\s*Am .{0,300}schrieb .{0,200}:\s*$", re.IGNORECASE),
    re.compile(r"^\s*-{2,}\s*Original Message\s*-{2,}\s*$", re.IGNORECASE),
    re.compile(r"^\s*_{20,}\s*$"),
    re.compile(r"^-- ?$"),
)
_OUTLOOK_HEADER = re.compile(r"^\s*\*?From:\*?\s", re.IGNORECASE)
_OUTLOOK_SENT = re.compile(r"^\s*\*?(Sent|Date):\*?\s", re.IGNORECASE)


def trim_reply(text: str) -> str:
    """The new text of a reply, without the quoted history and the signature below it; the whole
    text when trimming would leave nothing (the original stays on the stored message)."""
    lines = text.splitlines()
    cut = len(lines)
    for n, line in enumerate(lines):
        if any(pattern.match(line) for pattern in _QUOTE_STARTS) or _outlook_block(lines, n):
            cut = n
            break
    kept = lines[:cut]
    while kept and (not kept[-1].strip() or kept[-1].lstrip().startswith(">")):
        kept.pop()
    trimmed = "\n".join(kept).strip()
    return trimmed or text.strip()


def _outlook_block(lines: list[str], n: int) -> bool:
    """Whether line n starts Outlook's quoted header block (From: then Sent: within a few lines)."""
    return bool(_OUTLOOK_HEADER.match(lines[n])) and any(
        _OUTLOOK_SENT.match(line) for line in lines[n + 1 : n + 4]
    )
