"""Email intake on screen: the thread's channel and unverified-sender badges with the accept form,
the emails panel's received messages, bouncing addresses, and the admin page with its retry."""

from helpdesk.models import BouncingAddress, Comment, InboundEmail, InboundStatus
from helpdesk.services import mail_intake
from helpdesk.services.tickets import Contacts
from tests.factories import make_admin, make_agent, make_organisation, make_ticket
from tests.web.conftest import PASSWORD, csrf_token, sign_in

STRANGER = (
    b"From: mallory@evil.example\r\nTo: support@example.com\r\nSubject: [INC-1] hi\r\n"
    b"Message-ID: <m1@evil.example>\r\nContent-Type: text/html\r\n\r\n<b>pay me</b><script>x()</script>\r\n"
)


async def test_an_agent_sees_the_channel_accepts_an_unverified_email_and_sees_it_received(client, app):
    await make_organisation()
    agent = await make_agent(password=PASSWORD)
    ticket = await make_ticket(actor=agent, contacts=Contacts(main_email="pat@customer.example"))
    config = dict(app.config) | {"MAIL_IN_ADDRESS": "support@example.com"}
    await mail_intake.store(STRANGER, via="lmtp")
    await mail_intake.process_due(config)
    assert (await InboundEmail.get()).status == InboundStatus.REFUSED  # a tag counts only from a contact
    await Comment.create(ticket_id=ticket.id, body="pay me", internal=True, channel="email",
                         email_from="mallory@evil.example", unverified=True)  # fmt: skip
    await sign_in(client, agent)
    page = await (await client.get(f"/tickets/{ticket.human_id}")).get_data(as_text=True)
    assert "Unverified sender" in page and "badge-channel" in page and "<script>x()" not in page
    token = await csrf_token(client, f"/tickets/{ticket.human_id}")
    note = await Comment.get()
    response = await client.post(
        f"/tickets/{ticket.human_id}/comments/{note.id}/accept", form={"csrf_token": token}
    )
    assert response.status_code in (200, 303)
    assert (await Comment.get()).internal is False


async def test_admins_see_refused_mail_with_the_reason_and_retry_it(client, app):
    admin = await make_admin(password=PASSWORD)
    await mail_intake.store(STRANGER, via="lmtp")
    await mail_intake.process_due(dict(app.config))
    await sign_in(client, admin)
    page = await (await client.get("/admin/mail")).get_data(as_text=True)
    assert "mallory@evil.example" in page and "MAIL_IN_UNKNOWN_SENDERS" in page
    token = await csrf_token(client, "/admin/mail")
    stored = await InboundEmail.get()
    response = await client.post(f"/admin/mail/{stored.id}/retry", form={"csrf_token": token})
    assert response.status_code == 302
    assert (await InboundEmail.get()).status == InboundStatus.RECEIVED


async def test_agents_may_not_see_the_admin_mail_page(client):
    agent = await make_agent(password=PASSWORD)
    await sign_in(client, agent)
    assert (await client.get("/admin/mail")).status_code in (403, 404)


async def test_a_bouncing_contact_is_shown_and_an_agent_clears_it_from_the_contacts_panel(client, app):
    await make_organisation()
    agent = await make_agent(password=PASSWORD)
    ticket = await make_ticket(actor=agent, contacts=Contacts(main_email="Pat@Customer.example"))
    await BouncingAddress.create(address="pat@customer.example", reason="5.1.1 on 2026-12-05")
    await sign_in(client, agent)
    page = await (await client.get(f"/tickets/{ticket.human_id}")).get_data(as_text=True)
    assert page.count("badge-bouncing") == 2  # the contacts panel and the emails panel
    token = await csrf_token(client, f"/tickets/{ticket.human_id}")
    response = await client.post(
        f"/tickets/{ticket.human_id}/bouncing/pat@customer.example/clear",
        form={"csrf_token": token},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert "pat@customer.example cleared." in await response.get_data(as_text=True)
    assert await BouncingAddress.all().count() == 0


async def test_the_emails_panel_lists_received_messages_as_text(client, app):
    await make_organisation()
    agent = await make_agent(password=PASSWORD)
    ticket = await make_ticket(actor=agent, contacts=Contacts(main_email="pat@customer.example"))
    raw = (
        b"From: pat@customer.example\r\nTo: support@example.com\r\nSubject: [INC-1] update\r\n"
        b"Message-ID: <p1@c>\r\nContent-Type: text/html\r\n\r\n"
        b"<p>New <i>text</i></p><img src=x onerror=alert(1)>\r\n"
    )
    await mail_intake.store(raw, via="imap")
    await mail_intake.process_due(dict(app.config))
    await sign_in(client, agent)
    response = await client.get(f"/tickets/{ticket.human_id}/emails", headers={"HX-Request": "true"})
    html = await response.get_data(as_text=True)
    assert "Received" in html and "[INC-1] update" in html and "New text" in html
    assert "onerror" not in html and "<i>" not in html
