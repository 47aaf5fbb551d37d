"""Files through the web forms: the reply and new-ticket forms as plain multipart posts, the thread
listing them with thumbnails and channels, downloads for who may see them, and the size limits."""

import uuid

from helpdesk.models import Attachment, Comment, Ticket
from helpdesk.services import attachments
from tests.factories import make_agent, make_customer, make_organisation, make_ticket
from tests.web.conftest import HTMX, csrf_token, sign_in

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c63606060f80f0000"
    "0401010018dd8db40000000049454e44ae426082"
)


def multipart(fields: dict[str, str], files: list[tuple[str, bytes]]) -> tuple[bytes, dict]:
    """A browser's multipart/form-data body: the fields, then each file in the `files` field."""
    boundary = uuid.uuid4().hex
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
        for k, v in fields.items()
    ]
    parts += [
        f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="{name}"\r\n'
        f"Content-Type: application/octet-stream\r\n\r\n".encode()
        + data
        + b"\r\n"
        for name, data in files
    ]
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    return body, {"Content-Type": f"multipart/form-data; boundary={boundary}"}


async def reply(client, ticket, body: str, files, headers=None, **fields):
    form = {"csrf_token": await csrf_token(client, f"/tickets/{ticket.human_id}"), "body": body} | fields
    data, content_type = multipart(form, files)
    path = f"/tickets/{ticket.human_id}/comments"
    return await client.post(path, data=data, headers=content_type | (headers or {}))


async def test_a_reply_with_files_shows_them_in_the_thread_for_the_customer(app):
    await make_organisation("ORG-1")
    agent, customer = await make_agent(), await make_customer("ORG-1")
    ticket = await make_ticket(actor=agent)
    staff = app.test_client()
    await sign_in(staff, agent)
    page = await (await staff.get(f"/tickets/{ticket.human_id}")).get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in page and 'type="file"' in page and "attachments.js" in page
    response = await reply(staff, ticket, "Screenshot attached", [("shot.png", PNG), ("notes.txt", b"a\n")])
    assert response.status_code == 303
    [shot, notes] = await Attachment.all().order_by("id")
    assert shot.comment_id == notes.comment_id == (await Comment.get()).id
    await reply(staff, ticket, "secret", [("secret.txt", b"s")], visibility="internal")

    reader = app.test_client()
    await sign_in(reader, customer)
    html = await (await reader.get(f"/tickets/{ticket.human_id}")).get_data(as_text=True)
    assert f'<img src="/attachments/{shot.id}"' in html and "shot.png" in html and "notes.txt" in html
    assert "2 bytes" in html and 'title="Came by the web"' in html and "secret.txt" not in html
    got = await reader.get(f"/attachments/{shot.id}")
    assert got.status_code == 200 and await got.get_data() == PNG
    assert got.headers["Content-Disposition"].startswith("inline;")
    assert got.headers["X-Content-Type-Options"] == "nosniff"
    secret = await Attachment.get(filename="secret.txt")
    assert (await reader.get(f"/attachments/{secret.id}")).status_code == 404
    assert (await staff.get(f"/attachments/{secret.id}")).status_code == 200


async def test_a_customer_of_another_organisation_gets_404(app):
    agent = await make_agent()
    ticket = await make_ticket(actor=agent)
    staff = app.test_client()
    await sign_in(staff, agent)
    await reply(staff, ticket, "file", [("a.txt", b"a")])
    stranger = app.test_client()
    await sign_in(stranger, await make_customer("ORG-2"))
    file = await Attachment.get()
    assert (await stranger.get(f"/attachments/{file.id}")).status_code == 404
    anonymous = await app.test_client().get(f"/attachments/{file.id}")
    assert anonymous.status_code in (302, 303)


async def test_a_reply_without_files_still_posts_as_a_plain_form(client):
    agent = await make_agent()
    ticket = await make_ticket(actor=agent)
    await sign_in(client, agent)
    response = await reply(client, ticket, "no files", [("", b"")], headers=HTMX)
    assert response.status_code == 200 and await Comment.filter(body="no files").exists()
    assert not await Attachment.exists()


async def test_a_file_over_the_limit_comes_back_as_413_with_the_limits(client, monkeypatch):
    monkeypatch.setitem(attachments.settings, "max_file", 100)
    agent = await make_agent()
    ticket = await make_ticket(actor=agent)
    await sign_in(client, agent)
    response = await reply(client, ticket, "big", [("big.bin", b"x" * 101)], headers=HTMX)
    html = await response.get_data(as_text=True)
    assert response.status_code == 413 and html.lstrip().startswith('<section id="tickets-reply"')
    assert "larger than 100 bytes" in html and "nothing was sent" in html
    assert not await Comment.exists() and not await Attachment.exists()
    plain = await reply(client, ticket, "big", [("big.bin", b"x" * 101)])
    assert plain.status_code == 413 and "<html" in (await plain.get_data(as_text=True))


async def test_a_new_ticket_keeps_its_files(client):
    await make_organisation("ORG-1", default_contract_hid="CON-1", default_tenant_hid="1")
    customer = await make_customer("ORG-1", human_id="USR-5")
    await sign_in(client, customer)
    fields = {
        "csrf_token": await csrf_token(client, "/tickets/new"), "title": "Printer", "description": "Jammed",
        "organisation": "ORG-1", "reporter": "USR-5", "main_email": customer.email,
    }  # fmt: skip
    data, content_type = multipart(fields, [("jam.png", PNG)])
    response = await client.post("/tickets/new", data=data, headers=content_type)
    assert response.status_code == 303, await response.get_data(as_text=True)
    ticket = await Ticket.get(title="Printer")
    [file] = await Attachment.filter(ticket_id=ticket.id)
    assert (file.on_ticket, file.comment_id, file.content_type) == (True, None, "image/png")
    page = await (await client.get(f"/tickets/{ticket.human_id}")).get_data(as_text=True)
    assert "jam.png" in page
