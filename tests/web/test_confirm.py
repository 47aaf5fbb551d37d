"""The contact-confirmation pages: GET shows, a CSRF-checked POST consumes, bad links get a clear page."""

import logging
import re
import time

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from helpdesk.models import ConsumedToken, Event, Ticket, TicketAttribute, TicketHistory
from helpdesk.services import contacts, outbox
from helpdesk.services.tickets import Contacts
from tests.factories import make_agent, make_ticket

ADDRESS = "main@customer.example"


async def ticket_with_contacts() -> Ticket:
    contact_rows = Contacts(
        main_email=ADDRESS, phone_number="0113 496 0123", additional_emails=["extra@customer.example"]
    )
    return await make_ticket(contacts=contact_rows, title="Phones down")


def path_for(
    app, ticket_id: int, address: str = ADDRESS, salt: str = contacts.CONFIRM_SALT, signer=TimestampSigner
) -> str:
    serializer = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt=salt, signer=signer)
    return "/confirm/" + serializer.dumps({"ticket": ticket_id, "address": address})


def csrf_token(html: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)


async def open_page(client, path: str) -> str:
    response = await client.get(path)
    assert response.status_code == 200
    assert response.headers["Referrer-Policy"] == "no-referrer"
    return await response.get_data(as_text=True)


async def nothing_consumed() -> bool:
    return not await ConsumedToken.exists() and not await Event.filter(key="contacts.confirmed").exists()


async def test_link_in_delivered_email_shows_details_and_confirms_once(app, client, mailbox):
    ticket = await ticket_with_contacts()
    await contacts.request_confirmation(ticket=ticket, actor=await make_agent(), config=app.config)
    await outbox.deliver_due(mailbox.config(app.config))
    # The address also got the "ticket received" notification when the ticket was created.
    [message] = [
        m
        for m in mailbox.messages
        if m["To"] == ADDRESS and "/confirm/" in m.get_body(("plain",)).get_content()
    ]
    assert ticket.human_id in message["Subject"] and "Phones down" in message["Subject"]
    path = re.search(
        r"http://testserver\.local(/confirm/\S+)", message.get_body(("plain",)).get_content()
    ).group(1)
    assert f'href="http://testserver.local{path}"' in message.get_body(("html",)).get_content()
    html = await open_page(client, path)
    assert all(
        text in html
        for text in (ticket.human_id, "Phones down", ADDRESS, "0113 496 0123", "These are correct")
    )
    assert await open_page(client, path) and await nothing_consumed()
    response = await client.post(path, form={"csrf_token": csrf_token(html), "confirm": "y"})
    assert response.status_code == 200 and "Thank you" in await response.get_data(as_text=True)
    event = await Event.get(key="contacts.confirmed")
    assert (event.value, event.target) == (ADDRESS, ticket.human_id)
    again = await client.get(path)
    assert again.status_code == 410 and "already been used" in await again.get_data(as_text=True)


async def test_corrections_are_saved_with_the_contact_as_author(app, client):
    ticket = await ticket_with_contacts()
    path = path_for(app, ticket.id)
    html = await open_page(client, path)
    form = {
        "csrf_token": csrf_token(html),
        "email": ADDRESS,
        "phone_number": "+44 1632 960000",
        "correct": "y",
    }
    response = await client.post(path, form=form)
    assert response.status_code == 200 and "corrections" in await response.get_data(as_text=True)
    assert (await TicketAttribute.get(ticket=ticket, key="phoneNumber")).value == "+44 1632 960000"
    history = await TicketHistory.get(ticket=ticket, field="contact.phoneNumber")
    assert (history.actor_id, history.actor_label) == (None, ADDRESS)


async def test_invalid_correction_is_shown_and_consumes_nothing(app, client):
    ticket = await ticket_with_contacts()
    path = path_for(app, ticket.id)
    form = {
        "csrf_token": csrf_token(await open_page(client, path)),
        "email": "a@b.example, c@d.example",
        "correct": "y",
    }
    response = await client.post(path, form=form)
    assert response.status_code == 422
    assert "must be one email address" in await response.get_data(as_text=True)
    assert await nothing_consumed()


@pytest.mark.parametrize("csrf", ["", "forged##value", None])
async def test_post_without_a_valid_csrf_token_is_refused(app, client, csrf):
    ticket = await ticket_with_contacts()
    path = path_for(app, ticket.id)
    if csrf is not None:
        await open_page(client, path)
    response = await client.post(path, form={"csrf_token": csrf or "", "confirm": "y"})
    html = await response.get_data(as_text=True)
    assert response.status_code == 400 and 'role="alert"' in html and "These are correct" in html
    assert await nothing_consumed()


class PastSigner(TimestampSigner):
    def get_timestamp(self) -> int:
        return int(time.time()) - 72 * 3600 - 5


async def spoiled_path(app, kind: str, ticket: Ticket) -> str:
    good = path_for(app, ticket.id)
    if kind == "used":
        await contacts.confirm_contacts(
            token=good.removeprefix("/confirm/"), corrections=None, config=app.config
        )
    other = await make_ticket(contacts=Contacts(main_email="someone@else.example"))
    return {
        "tampered": good[:-4] + ("AAAA" if not good.endswith("AAAA") else "BBBB"),
        "expired": path_for(app, ticket.id, signer=PastSigner),
        "used": good,
        "other-ticket": path_for(app, other.id),
        "other-purpose": path_for(app, ticket.id, salt="helpdesk.password-reset"),
        "malformed": "/confirm/not-a-token",
        "empty": "/confirm/",
    }[kind]


@pytest.mark.parametrize(
    ("kind", "status", "says"),
    [
        ("tampered", 400, "not valid"),
        ("expired", 410, "expired"),
        ("used", 410, "already been used"),
        ("other-ticket", 410, "no longer"),
        ("other-purpose", 400, "not valid"),
        ("malformed", 400, "not valid"),
        ("empty", 400, "not valid"),
    ],
)
async def test_unusable_links_get_a_clear_page_and_change_nothing(app, client, kind, status, says):
    ticket = await ticket_with_contacts()
    path = await spoiled_path(app, kind, ticket)
    events_before = await Event.all().count()
    for response in [await client.get(path), await client.post(path, form={"confirm": "y"})]:
        html = await response.get_data(as_text=True)
        assert response.status_code == status and says in html
        assert "reply to the" in html and "contact the helpdesk" in html and "app.css" in html
        assert response.headers["Referrer-Policy"] == "no-referrer"
    assert await Event.all().count() == events_before
    assert await TicketAttribute.filter(ticket=ticket, key="phoneNumber").values_list("value", flat=True) == [
        "0113 496 0123"
    ]


async def test_token_never_reaches_the_logs(app, client, caplog):
    ticket = await ticket_with_contacts()
    path = path_for(app, ticket.id)
    with caplog.at_level(logging.DEBUG):
        html = await open_page(client, path)
        await client.post(path, form={"csrf_token": csrf_token(html), "confirm": "y"})
        await client.get(path)
    assert caplog.records and path.removeprefix("/confirm/") not in caplog.text


async def test_an_unexpected_failure_shows_the_error_page_and_logs_no_token(app, client, caplog, monkeypatch):
    ticket = await ticket_with_contacts()
    path = path_for(app, ticket.id)

    async def broken(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(contacts, "read_link", broken)
    with caplog.at_level(logging.DEBUG):
        response = await client.get(path)
    assert response.status_code == 500 and "Something went wrong" in await response.get_data(as_text=True)
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert "database went away" in caplog.text  # the failure is logged ...
    assert path.removeprefix("/confirm/") not in caplog.text  # ... without the token
