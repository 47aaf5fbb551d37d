"""Attachments through the API: upload, who may download, sniffing, limits, and comments that carry
files (attachmentIds)."""

import uuid

import pytest

from helpdesk.services import attachments
from tests.api.conftest import TICKET, _api_user
from tests.factories import make_customer

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000 1f15c4890000000d49444154789c63606060f80f0000"
    "0401010018dd8db40000000049454e44ae426082".replace(" ", "")
)
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def multipart(*files: tuple[str, bytes], field: str = "files") -> tuple[bytes, dict]:
    """A multipart/form-data body of the files, each in `field`."""
    boundary = uuid.uuid4().hex
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; filename="{name}"\r\n'
        f"Content-Type: application/octet-stream\r\n\r\n".encode()
        + data
        + b"\r\n"
        for name, data in files
    ]
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    return body, {"Content-Type": f"multipart/form-data; boundary={boundary}"}


async def upload(user, ticket_id: str, *files: tuple[str, bytes]):
    body, headers = multipart(*files)
    return await user.post(f"/api/tickets/{ticket_id}/attachments", data=body, headers=headers)


async def new_ticket(agent) -> str:
    response = await agent.post("/api/tickets", json=TICKET)
    assert response.status_code == 201
    return response.headers["Location"]


async def comment(user, ticket_id: str, **fields):
    return await user.post(f"/api/tickets/{ticket_id}", json={"description": "See file"} | fields)


async def test_agent_uploads_posts_and_anyone_who_sees_the_reply_downloads(agent, customer, directory):
    ticket_id = await new_ticket(agent)
    response = await upload(agent, ticket_id, ("report.pdf", PDF), ("shot.png", PNG))
    assert response.status_code == 201
    [pdf, png] = (await response.get_json())["data"]
    assert (pdf["filename"], pdf["contentType"], pdf["size"]) == ("report.pdf", "application/pdf", len(PDF))
    assert png["contentType"] == "image/png" and png["links"]["download"] == f"/attachments/{png['id']}"
    assert (await comment(agent, ticket_id, attachmentIds=[pdf["id"], png["id"]])).status_code == 201

    listed = (await (await customer.get(f"/api/tickets/{ticket_id}/comments")).get_json())["data"]
    assert [a["filename"] for a in listed[0]["attachments"]] == ["report.pdf", "shot.png"]
    assert listed[0]["channel"] == "api"
    full = (await (await customer.get(f"/api/tickets/{ticket_id}")).get_json())["data"][0]
    assert [a["id"] for a in full["attachments"]] == [pdf["id"], png["id"]]

    got = await customer.get(f"/api/attachments/{pdf['id']}")
    assert got.status_code == 200 and await got.get_data() == PDF
    assert got.headers["Content-Type"] == "application/pdf"
    assert got.headers["Content-Disposition"].startswith('attachment; filename="report.pdf"')
    assert got.headers["X-Content-Type-Options"] == "nosniff"
    image = await customer.get(f"/api/attachments/{png['id']}")
    assert image.headers["Content-Disposition"].startswith("inline;") and await image.get_data() == PNG


async def test_type_is_sniffed_from_the_bytes_never_the_name(agent, directory):
    ticket_id = await new_ticket(agent)
    script = b"<script>alert(1)</script>"
    response = await upload(agent, ticket_id, ("innocent.png", PDF), ("page.html", script))
    [pdf, html] = (await response.get_json())["data"]
    assert pdf["contentType"] == "application/pdf"
    assert html["contentType"] == "text/plain"
    got = await agent.get(f"/api/attachments/{pdf['id']}")
    assert got.headers["Content-Type"] == "application/pdf"
    assert got.headers["Content-Disposition"].startswith("attachment;")


async def test_customers_of_other_organisations_and_internal_notes_files_are_missing(
    app, client, agent, customer, directory
):
    ticket_id = await new_ticket(agent)
    [public] = (await (await upload(agent, ticket_id, ("a.pdf", PDF))).get_json())["data"]
    [secret] = (await (await upload(agent, ticket_id, ("b.pdf", PDF + b"x"))).get_json())["data"]
    [loose] = (await (await upload(agent, ticket_id, ("c.pdf", PDF + b"y"))).get_json())["data"]
    await comment(agent, ticket_id, attachmentIds=[public["id"]])
    await comment(agent, ticket_id, attachmentIds=[secret["id"]], internal=True)
    stranger = await _api_user(client, await make_customer(organisation_hid="ORG-2", human_id="USR-9"))

    assert (await agent.get(f"/api/attachments/{secret['id']}")).status_code == 200
    assert (await customer.get(f"/api/attachments/{public['id']}")).status_code == 200
    for who, file in [(customer, secret), (customer, loose), (stranger, public), (stranger, secret)]:
        response = await who.get(f"/api/attachments/{file['id']}")
        assert response.status_code == 404 and (await response.get_json())["title"] == "Not Found"
    assert (await agent.get("/api/attachments/999999")).status_code == 404
    listed = (await (await customer.get(f"/api/tickets/{ticket_id}/comments")).get_json())["data"]
    assert [[a["id"] for a in c["attachments"]] for c in listed] == [[public["id"]]]
    assert (await upload(stranger, ticket_id, ("x.pdf", PDF))).status_code == 404


async def test_a_customer_attaches_their_own_upload_to_their_reply(agent, customer, directory):
    ticket_id = await new_ticket(agent)
    [mine] = (await (await upload(customer, ticket_id, ("log.txt", b"line 1\n"))).get_json())["data"]
    assert (await customer.get(f"/api/attachments/{mine['id']}")).status_code == 200
    assert (await comment(customer, ticket_id, attachmentIds=[mine["id"]])).status_code == 201
    listed = (await (await agent.get(f"/api/tickets/{ticket_id}/comments")).get_json())["data"]
    assert listed[0]["attachments"][0]["contentType"] == "text/plain"


@pytest.mark.parametrize(
    "ids, status",
    [(["x"], 422), ([0], 422), ([999999], 422), ([2**40], 422), ("1", 422)],
)
async def test_attachment_ids_are_validated(agent, directory, ids, status):
    ticket_id = await new_ticket(agent)
    response = await comment(agent, ticket_id, attachmentIds=ids)
    assert response.status_code == status
    body = await response.get_json()
    assert body["title"] == "Unprocessable Entity"
    assert any(k.startswith("attachmentIds") for k in body["errors"])


async def test_only_ones_own_unattached_files_of_this_ticket_can_be_attached(agent, customer, directory):
    first, second = await new_ticket(agent), await new_ticket(agent)
    [theirs] = (await (await upload(customer, first, ("a.txt", b"a"))).get_json())["data"]
    [mine] = (await (await upload(agent, first, ("b.txt", b"b"))).get_json())["data"]
    for ticket_id, file in [(first, theirs), (second, mine)]:
        response = await comment(agent, ticket_id, attachmentIds=[file["id"]])
        assert response.status_code == 422
        assert (await response.get_json())["errors"]["attachmentIds"] == [f"not attachable: {file['id']}"]
    assert (await comment(agent, first, attachmentIds=[mine["id"]])).status_code == 201
    again = await comment(agent, first, attachmentIds=[mine["id"]])
    assert again.status_code == 422  # already on a comment


async def test_over_the_size_limit_is_413_in_the_error_shape(agent, directory, monkeypatch):
    monkeypatch.setitem(attachments.settings, "max_file", 1000)
    ticket_id = await new_ticket(agent)
    response = await upload(agent, ticket_id, ("small.bin", b"s" * 10), ("big.bin", b"x" * 1001))
    assert response.status_code == 413
    assert not list(attachments.store().tmp_dir.iterdir())  # the small file spooled first is dropped
    body = await response.get_json()
    assert body["title"] == "Payload Too Large" and "1000 bytes" in body["message"]
    assert (await upload(agent, ticket_id, ("ok.bin", b"x" * 1000))).status_code == 201


async def test_a_request_over_the_upload_limit_is_413(app, agent, directory):
    ticket_id = await new_ticket(agent)
    limit = app.config["ATTACHMENTS_MAX_REQUEST_BYTES"]
    body, headers = multipart(("huge.bin", b"x" * (limit + 1)))
    response = await agent.post(f"/api/tickets/{ticket_id}/attachments", data=body, headers=headers)
    assert response.status_code == 413
    assert (await response.get_json())["title"] == "Request Entity Too Large"


async def test_uploads_need_multipart_files(agent, directory):
    ticket_id = await new_ticket(agent)
    response = await agent.post(f"/api/tickets/{ticket_id}/attachments", json={"files": []})
    assert response.status_code == 400
    body, headers = multipart(("a.txt", b"a"), field="other")
    response = await agent.post(f"/api/tickets/{ticket_id}/attachments", data=body, headers=headers)
    assert response.status_code == 422 and "files" in (await response.get_json())["errors"]
