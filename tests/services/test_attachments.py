"""The attachment store (filesystem and S3, each for real), files from incoming mail, and files that
travel with a public reply's email."""

import hashlib
from pathlib import Path

import pytest

from helpdesk.models import Attachment, Comment, InboundEmail, OutboxEmail
from helpdesk.services import attachments, blob_store, mail_intake, outbox, tickets
from helpdesk.services.tickets import Contacts
from tests.factories import make_agent, make_organisation, make_ticket
from tests.pgserver import free_port

CORPUS = Path(__file__).parent.parent / "mail_corpus"
PDF = b"%PDF-1.4\n%%EOF\n"


def spooled(store: blob_store.BlobStore, data: bytes) -> tuple[str, Path]:
    """The bytes in a temporary file of the store's spool directory, and their digest."""
    path = Path(store.tmp_dir) / f"t-{hashlib.md5(data).hexdigest()}-{free_port()}"  # noqa: S324
    path.write_bytes(data)
    return hashlib.sha256(data).hexdigest(), path


async def round_trip(store: blob_store.BlobStore) -> None:
    big = bytes(range(256)) * (40 * 1024)  # 10 MiB: S3 takes it in parts
    for data in (b"hello", big):
        digest, path = spooled(store, data)
        await store.put(digest, path)
        assert not path.exists()
        chunks = [chunk async for chunk in store.chunks(digest)]
        assert b"".join(chunks) == data and max(map(len, chunks)) <= blob_store.CHUNK
    again_digest, again = spooled(store, b"hello")
    await store.put(again_digest, again)  # already there: the spooled copy is dropped
    assert not again.exists() and await store.read(again_digest) == b"hello"


async def test_filesystem_store_keeps_each_content_once(tmp_path):
    store = blob_store.FileStore(tmp_path / "files")
    await round_trip(store)
    root = tmp_path / "files"
    stored = [p for p in root.rglob("*") if p.is_file() and p.parent != store.tmp_dir]
    assert sorted(p.name for p in stored) == sorted(
        hashlib.sha256(d).hexdigest() for d in (b"hello", bytes(range(256)) * (40 * 1024))
    )


@pytest.fixture(scope="module")
def s3_server():
    """moto's S3 server on a loopback port, for this module."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=free_port(), verbose=False)
    server.start()
    yield f"http://127.0.0.1:{server._port}"
    server.stop()


async def test_s3_store_round_trip_against_an_s3_server(s3_server, tmp_path):
    config = {
        "ATTACHMENTS_STORE": "s3", "ATTACHMENTS_DIR": str(tmp_path), "ATTACHMENTS_S3_BUCKET": "files",
        "ATTACHMENTS_S3_ENDPOINT_URL": s3_server, "ATTACHMENTS_S3_REGION": "us-east-1",
        "ATTACHMENTS_S3_ACCESS_KEY_ID": "test", "ATTACHMENTS_S3_SECRET_ACCESS_KEY": "test",
        "ATTACHMENTS_S3_PREFIX": "att/",
    }  # fmt: skip
    store = blob_store.from_config(config)
    assert isinstance(store, blob_store.S3Store)
    async with store.client() as s3:
        await s3.create_bucket(Bucket="files")
    await round_trip(store)
    async with store.client() as s3:
        listed = await s3.list_objects_v2(Bucket="files")
    assert sorted(o["Key"] for o in listed["Contents"]) == sorted(
        f"att/{hashlib.sha256(d).hexdigest()}" for d in (b"hello", bytes(range(256)) * (40 * 1024))
    )


async def test_the_same_file_twice_is_two_attachments_and_one_stored_copy(app):
    agent = await make_agent()
    ticket = await make_ticket(actor=agent)
    for name in ("a.pdf", "b.pdf"):
        given = [attachments.Given(name, attachments.spool_bytes(PDF))]
        await attachments.add_files(human_id=ticket.human_id, files=given, actor=agent)
    rows = await Attachment.all().order_by("id")
    assert [(r.filename, r.content_type) for r in rows] == [
        ("a.pdf", "application/pdf"),
        ("b.pdf", "application/pdf"),
    ]
    assert rows[0].sha256 == rows[1].sha256 == hashlib.sha256(PDF).hexdigest()
    root = Path(app.config["ATTACHMENTS_DIR"])
    assert [p.name for p in root.rglob(rows[0].sha256)] == [rows[0].sha256]
    assert not list((root / "tmp").iterdir())  # no spooled file left behind


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../etc/passwd", "passwd"),
        ('a"b\r\n.txt', "a_b_.txt"),
        ("", "attachment"),
        ("C:\\x\\y.doc", "y.doc"),
    ],
)
def test_filenames_are_made_safe(name, expected):
    assert attachments.safe_filename(name) == expected


async def test_an_emailed_inline_image_ends_up_on_the_comment(app):
    config = dict(app.config) | {
        "MAIL_FROM": "helpdesk@example.com",
        "MAIL_IN_ADDRESS": "support@example.com",
    }
    await make_organisation()
    ticket = await make_ticket(contacts=Contacts(main_email="pat@customer.example"))
    raw = (
        (CORPUS / "inline_image.eml").read_bytes().replace(b"Subject: inline image", b"Subject: [INC-1] shot")
    )
    await mail_intake.store(raw, via="lmtp")
    await mail_intake.process_due(config)
    stored = await InboundEmail.get()
    [file] = await Attachment.filter(comment_id=stored.comment_id)
    assert (file.ticket_id, file.filename, file.content_type) == (ticket.id, "shot.png", "image/png")
    comment = await Comment.get(id=stored.comment_id)
    assert comment.channel == "email" and not comment.internal


async def test_a_new_ticket_by_email_keeps_its_files_on_the_ticket(app):
    config = dict(app.config) | {
        "MAIL_FROM": "helpdesk@example.com",
        "MAIL_IN_ADDRESS": "support@example.com",
    }
    await make_organisation()
    await make_ticket(contacts=Contacts(main_email="pat@customer.example"))
    await mail_intake.store((CORPUS / "rfc2047_subject_and_filename.eml").read_bytes(), via="lmtp")
    await mail_intake.process_due(config)
    stored = await InboundEmail.get()
    [file] = await Attachment.filter(ticket_id=stored.ticket_id)
    assert file.filename == "résumé.pdf" and (file.comment_id is None) == (stored.comment_id is None)


async def public_reply_with_file(app, data: bytes) -> OutboxEmail:
    agent = await make_agent()
    ticket = await make_ticket(actor=agent, contacts=Contacts(main_email="pat@customer.example"))
    await OutboxEmail.all().delete()  # the "ticket received" email
    given = [attachments.Given("report.pdf", attachments.spool_bytes(data))]
    [file] = await attachments.add_files(human_id=ticket.human_id, files=given, actor=agent)
    await tickets.post_comment(
        human_id=ticket.human_id, body="Here it is", actor=agent, attachment_ids=[file.id]
    )
    return await OutboxEmail.get()


async def test_a_public_reply_email_carries_the_comments_file(app, mailbox):
    row = await public_reply_with_file(app, PDF)
    assert row.comment_id is not None and "Attached:" in row.body_text and "report.pdf" in row.body_text
    assert await outbox.deliver_due(mailbox.config(app.config)) == 1
    [message] = mailbox.messages
    [part] = list(message.iter_attachments())
    assert (part.get_filename(), part.get_content_type(), part.get_content()) == (
        "report.pdf", "application/pdf", PDF,
    )  # fmt: skip
    assert message.get_body(("plain",)).get_content().startswith("Hello,")


async def test_files_over_the_mail_limit_are_linked_not_attached(app, mailbox, monkeypatch):
    monkeypatch.setitem(attachments.settings, "mail_max", 10)
    row = await public_reply_with_file(app, PDF)
    file = await Attachment.get()
    assert f"{app.config['BASE_URL']}/attachments/{file.id}" in row.body_text
    assert await outbox.deliver_due(mailbox.config(app.config)) == 1
    assert list(mailbox.messages[0].iter_attachments()) == []
