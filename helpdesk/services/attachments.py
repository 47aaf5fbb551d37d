"""Files on tickets and comments: taken in (web form, API, incoming mail) as spooled temporary files,
kept once per content in the blob store, listed with the comments that carry them, and given out
only to who may see those comments."""

import hashlib
import os
import re
import tempfile
import unicodedata
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

import filetype

from helpdesk.errors import Invalid, NotFound, TooLarge
from helpdesk.models import Attachment, Comment, Ticket, User, ids_in_range
from helpdesk.services import blob_store
from helpdesk.services.access import authorise
from helpdesk.services.sql import select_rows

SNIFF_BYTES = 8192  # filetype reads the first 261; text is judged on this much
# Shown in the browser when opened (never anything that can run script: no SVG, no HTML, no PDF).
INLINE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
MAX_FILES = 20  # files in one upload

settings: dict[str, Any] = {
    "store": None, "max_file": 26214400, "max_request": 52428800, "mail_max": 10485760,
}  # fmt: skip


def configure(config: Mapping[str, Any]) -> None:
    """Open the configured blob store and read the size limits (once per process)."""
    settings["store"] = blob_store.from_config(config)
    settings["max_file"] = int(config.get("ATTACHMENT_MAX_BYTES", settings["max_file"]))
    settings["max_request"] = int(config.get("ATTACHMENTS_MAX_REQUEST_BYTES", settings["max_request"]))
    settings["mail_max"] = int(config.get("MAIL_ATTACHMENTS_MAX_BYTES", settings["mail_max"]))


def store() -> blob_store.BlobStore:
    """The configured store; a process that did not configure one (a command) reads the config file."""
    if settings["store"] is None:
        from helpdesk.config import load_config

        configure(load_config())
    return settings["store"]


def max_request_bytes() -> int:
    return settings["max_request"]


def mail_attachment_limit() -> int:
    return settings["mail_max"]


def human_size(size: int) -> str:
    """ "12 KB", "3.4 MB": a file's size as a person reads it."""
    for unit, scale in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if size >= scale:
            value = size / scale
            return f"{value:.1f} {unit}" if value < 10 else f"{value:.0f} {unit}"
    return f"{size} bytes"


class TooLargeFile(TooLarge):
    def __init__(self) -> None:
        limit = human_size(settings["max_file"])
        super().__init__(f"A file is larger than {limit}, the largest allowed.", {"files": [f"over {limit}"]})


class Spool:
    """One incoming file, written to a temporary file as it arrives: its SHA-256, size and first
    bytes are known when it ends, and at most one chunk of it is ever in memory. Quart's multipart
    parser writes into it (its `stream_factory`); so do the email intake and the tests."""

    def __init__(self) -> None:
        self.file = tempfile.NamedTemporaryFile(dir=store().tmp_dir, prefix="up-", delete=False)  # noqa: SIM115
        self.path = self.file.name
        self.digest, self.size, self.head = hashlib.sha256(), 0, bytearray()

    def write(self, data: bytes) -> int:
        self.size += len(data)
        if self.size > settings["max_file"]:
            self.discard()
            raise TooLargeFile()
        self.digest.update(data)
        if len(self.head) < SNIFF_BYTES:
            self.head += data[: SNIFF_BYTES - len(self.head)]
        return self.file.write(data)

    def seek(self, offset: int, whence: int = 0) -> int:
        return self.file.seek(offset, whence)

    def read(self, size: int = -1) -> bytes:
        return self.file.read(size)

    def close(self) -> None:
        self.file.close()

    def discard(self) -> None:
        """Remove the temporary file (it may have been moved into the store already)."""
        self.file.close()
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass


def spool_bytes(data: bytes) -> Spool:
    """A Spool of bytes already in hand (a MIME part of an email)."""
    spool = Spool()
    spool.write(data)
    return spool


def sniff(head: bytes) -> str:
    """The content type the bytes say they are; never the client's word for it."""
    kind = filetype.guess(bytes(head[:SNIFF_BYTES]))
    if kind is not None:
        return kind.mime
    text = bytes(head).rstrip(b"\x80\xbf")  # a character cut in two at the end of the sample
    if b"\x00" not in text:
        try:
            text.decode("utf-8")
        except UnicodeDecodeError:
            return "application/octet-stream"
        return "text/plain"
    return "application/octet-stream"


_UNSAFE = re.compile(r'[\x00-\x1f\x7f"\\/:*?<>|;]+')


def safe_filename(name: str) -> str:
    """The name as it may be stored and sent back: no path, no control characters, not empty."""
    name = unicodedata.normalize("NFC", name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE.sub("_", name).strip(" .")[:200]
    return name or "attachment"


class Given(NamedTuple):
    """A file as someone gave it: the name they gave, and its spooled bytes."""

    filename: str
    spool: Spool


def chosen(files: Iterable[Given]) -> list[Given]:
    """The files actually given: a browser sends an empty part for a file field left blank."""
    given = []
    for item in files:
        if item.spool.size == 0 and not item.filename:
            item.spool.discard()
        else:
            given.append(item)
    return given


def discard(files: Iterable[Given]) -> None:
    """Drop spooled files that will not be kept (the form they came with was refused)."""
    for item in files:
        item.spool.discard()


async def add_files(*, human_id: str, files: list[Given], actor: User) -> list[Attachment]:
    """Keep the files on the ticket, not yet on any comment (a comment then names them with
    `attachmentIds`). Whoever may see the ticket may add files to it."""
    try:
        ticket = await _visible_ticket(human_id, actor)
        return await _keep(ticket, chosen(files), actor, on_ticket=False)
    finally:
        for item in files:
            item.spool.discard()


async def _visible_ticket(human_id: str, actor: User) -> Ticket:
    """The ticket as tickets.load gives it (that module asks this one what a comment may carry)."""
    pk = Ticket.parse_human_id(human_id)
    ticket = await Ticket.get_or_none(id=pk) if pk else None
    if ticket is None:
        raise NotFound(f"No ticket {human_id}.")
    authorise(ticket, actor)
    return ticket


async def add_to_new_ticket(*, ticket: Ticket, files: list[Given], actor: User) -> list[Attachment]:
    """Keep the files given with a new ticket (its description's files)."""
    try:
        return await _keep(ticket, chosen(files), actor, on_ticket=True)
    finally:
        for item in files:
            item.spool.discard()


async def add_from_mail(
    *, ticket_id: int, comment_id: int | None, files: list[tuple[str, bytes]], actor: User | None
) -> list[str]:
    """Keep an email's files on the comment it became (or, with no comment, on the ticket it opened);
    the names of those over ATTACHMENT_MAX_BYTES, which stay only in the stored raw message."""
    skipped = []
    for filename, data in files:
        if len(data) > settings["max_file"]:
            skipped.append(filename)
            continue
        item = Given(filename, spool_bytes(data))
        try:
            await store().put(item.spool.digest.hexdigest(), item.spool.path)
            await _row(ticket_id, item, actor, comment_id=comment_id, on_ticket=comment_id is None)
        finally:
            item.spool.discard()
    return skipped


async def _keep(ticket: Ticket, given: list[Given], actor: User, *, on_ticket: bool) -> list[Attachment]:
    if not given:
        raise Invalid("Choose at least one file.", {"files": ["no file given"]})
    if len(given) > MAX_FILES:
        raise Invalid(f"At most {MAX_FILES} files at once.", {"files": [f"more than {MAX_FILES}"]})
    if sum(item.spool.size for item in given) > settings["max_request"]:
        limit = human_size(settings["max_request"])
        raise TooLarge(f"The files add up to more than {limit}.", {"files": [f"over {limit} in all"]})
    rows = []
    for item in given:
        await store().put(item.spool.digest.hexdigest(), item.spool.path)
        rows.append(await _row(ticket.id, item, actor, on_ticket=on_ticket))
    return rows


async def _row(
    ticket_id: int, item: Given, actor: User | None, *, comment_id: int | None = None, on_ticket: bool = False
) -> Attachment:
    return await Attachment.create(
        ticket_id=ticket_id, comment_id=comment_id, on_ticket=on_ticket,
        sha256=item.spool.digest.hexdigest(), size=item.spool.size, filename=safe_filename(item.filename),
        content_type=sniff(item.spool.head), uploaded_by_id=actor.id if actor else None,
    )  # fmt: skip


async def attachable(*, ticket_id: int, ids: list[int], actor: User) -> list[Attachment]:
    """The files a new comment by `actor` may carry: their own, on this ticket, on no comment yet.
    Any other id is a 422 that names it."""
    if not ids:
        return []
    wanted = list(dict.fromkeys(ids))
    found = {}
    if ids_in_range(*wanted):
        rows = await Attachment.filter(
            id__in=wanted, ticket_id=ticket_id, uploaded_by_id=actor.id, comment_id=None, on_ticket=False
        )
        found = {row.id: row for row in rows}
    missing = [str(pk) for pk in wanted if pk not in found]
    if missing:
        raise Invalid(
            "attachmentIds must name your own files uploaded to this ticket and not yet on a comment.",
            {"attachmentIds": [f"not attachable: {', '.join(missing)}"]},
        )
    return [found[pk] for pk in wanted]


class Listed(NamedTuple):
    """An attachment as the thread and the API list it."""

    id: int
    comment_id: int | None
    filename: str
    content_type: str
    size: int

    @property
    def image(self) -> bool:
        return self.content_type in INLINE_TYPES

    @property
    def size_label(self) -> str:
        return human_size(self.size)


LISTED = "SELECT a.id, a.comment_id, a.filename, a.content_type, a.size FROM attachment a"


async def listed_for_ticket(*, ticket: Ticket, actor: User) -> dict[int | None, list[Listed]]:
    """The ticket's files on comments and with its description, by comment id (None: the ticket's own),
    in one query; a customer's leave out internal notes' files and everyone's files not yet posted."""
    authorise(ticket, actor)
    sql = (
        f"{LISTED} LEFT JOIN comment c ON c.id = a.comment_id WHERE a.ticket_id = ?"
        " AND (a.on_ticket = ? OR (a.comment_id IS NOT NULL AND (c.internal = ? OR ?))) ORDER BY a.id"
    )
    rows = await select_rows(sql, ticket.id, True, False, actor.is_staff)
    listed: dict[int | None, list[Listed]] = {}
    for row in rows:
        item = Listed(*row)
        listed.setdefault(item.comment_id, []).append(item)
    return listed


def attachment_out(item: Listed | Attachment) -> dict[str, Any]:
    """The API's shape of one attachment."""
    return {
        "id": item.id, "filename": item.filename, "contentType": item.content_type, "size": item.size,
        "links": {"download": f"/attachments/{item.id}"},
    }  # fmt: skip


@dataclass
class Download:
    """A file to send: its name and sniffed type, its size, and its bytes as they are read."""

    filename: str
    content_type: str
    size: int
    chunks: AsyncIterator[bytes]

    @property
    def inline(self) -> bool:
        return self.content_type in INLINE_TYPES


async def download(*, attachment_id: int, actor: User) -> Download:
    """The file, to whoever may see what carries it: missing (404) to everyone else, alike for a file
    that does not exist, another organisation's, an internal note's (customers), or one not yet posted
    (anyone but its uploader and agents)."""
    missing = NotFound(f"No attachment {attachment_id}.")
    row = await Attachment.get_or_none(id=attachment_id) if ids_in_range(attachment_id) else None
    if row is None:
        raise missing
    ticket = await Ticket.get(id=row.ticket_id)
    try:
        authorise(ticket, actor)
    except NotFound:
        raise missing from None
    if not actor.is_staff and not await _customer_sees(row, actor):
        raise missing
    return Download(row.filename, row.content_type, row.size, store().chunks(row.sha256))


async def _customer_sees(row: Attachment, actor: User) -> bool:
    if row.on_ticket:
        return True
    if row.comment_id is None:
        return row.uploaded_by_id == actor.id
    comment = await Comment.get_or_none(id=row.comment_id)
    return comment is not None and not comment.internal


async def for_email(comment_id: int) -> tuple[list[Attachment], bool]:
    """A comment's files for its email, and whether they travel with it (within MAIL_ATTACHMENTS_MAX_BYTES
    in all) or as links."""
    rows = await Attachment.filter(comment_id=comment_id).order_by("id")
    return rows, sum(row.size for row in rows) <= settings["mail_max"]
