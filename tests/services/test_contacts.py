"""Contact notifications and confirmation links: signed, expiring, single-purpose, consumed once."""

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from itsdangerous import URLSafeTimedSerializer

from helpdesk.errors import Invalid, LinkExpired, LinkGone, LinkRefused, LinkUsed, NotFound
from helpdesk.models import ConsumedToken, Event, OutboxEmail, Ticket, TicketAttribute, TicketHistory
from helpdesk.services import contacts, outbox, ticket_contacts, tickets
from helpdesk.services.tickets import Contacts
from tests.factories import make_agent, make_customer, make_ticket

CONTACTS = Contacts(
    main_email="main@customer.example",
    phone_number="0113 496 0456",
    additional_emails=["extra@customer.example", "off@customer.example", "MAIN@customer.example"],
)


async def ticket_with_contacts() -> Ticket:
    ticket = await make_ticket(contacts=CONTACTS, title="Phones down")
    await TicketAttribute.filter(ticket=ticket, value="off@customer.example").update(enabled=False)
    # Creation already told the contacts (tested in test_tickets.py): start from a quiet outbox.
    await OutboxEmail.filter(ticket=ticket).delete()
    await Event.filter(ticket=ticket).delete()
    return ticket


def token_for(app, ticket_id: int, address: str, salt: str = contacts.CONFIRM_SALT) -> str:
    return URLSafeTimedSerializer(app.config["SECRET_KEY"], salt=salt).dumps(
        {"ticket": ticket_id, "address": address}
    )


def signed_at(app, token: str):
    return URLSafeTimedSerializer(app.config["SECRET_KEY"], salt=contacts.CONFIRM_SALT).loads(
        token, return_timestamp=True
    )[1]


async def test_request_queues_one_link_per_enabled_address_with_the_event(app):
    ticket, agent = await ticket_with_contacts(), await make_agent()
    event = (await contacts.request_confirmation(ticket=ticket, actor=agent, config=app.config)).event
    assert (event.key, event.target, event.value) == (
        "notification.ticket.confirm-contacts",
        ticket.human_id,
        "Confirm contacts notification sent.",
    )
    emails = await OutboxEmail.filter(ticket=ticket).order_by("id")
    assert [e.recipient for e in emails] == ["main@customer.example", "extra@customer.example"]
    assert all(ticket.human_id in e.subject and "Phones down" in e.subject for e in emails)
    assert all(f"{app.config['BASE_URL']}/confirm/" in e.body_text + e.body_html for e in emails)
    assert await contacts.latest_confirmation_request(ticket=ticket, actor=agent) == event


async def test_customers_cannot_request_or_read_confirmations(app):
    ticket = await ticket_with_contacts()
    customer = await make_customer(organisation_hid=ticket.organisation_hid)
    with pytest.raises(NotFound):
        await contacts.request_confirmation(ticket=ticket, actor=customer, config=app.config)
    with pytest.raises(NotFound):
        await contacts.latest_confirmation_request(ticket=ticket, actor=customer)
    assert await Event.all().count() == 0 and await OutboxEmail.all().count() == 0


async def test_confirmation_with_corrections_records_event_history_and_status(app):
    ticket = await ticket_with_contacts()
    await contacts.request_confirmation(ticket=ticket, actor=await make_agent(), config=app.config)
    token = token_for(app, ticket.id, "main@customer.example")
    corrections = {"phoneNumber": "+44 20 7946 0000", "preferredContactMethod": "phone", "email": ""}
    event = await contacts.confirm_contacts(token=token, corrections=corrections, config=app.config)
    assert (event.key, event.value, event.target) == (
        "contacts.confirmed",
        "main@customer.example",
        ticket.human_id,
    )
    rows = dict(
        await TicketAttribute.filter(
            ticket=ticket, key__in=["phoneNumber", "preferredContactMethod"]
        ).values_list("key", "value")
    )
    assert rows == {"phoneNumber": "+44 20 7946 0000", "preferredContactMethod": "phone"}
    history = await TicketHistory.filter(ticket=ticket, field__startswith="contact.").order_by("id")
    assert [(h.field, h.old_value, h.new_value, h.actor_id, h.actor_label) for h in history] == [
        ("contact.phoneNumber", "0113 496 0456", "+44 20 7946 0000", None, "main@customer.example"),
        ("contact.preferredContactMethod", None, "phone", None, "main@customer.example"),
    ]
    status = await contacts.confirmation_status(ticket=ticket, actor=await make_agent())
    assert status.requested_at is not None
    assert {c.address: c.confirmed_at is not None for c in status.contacts} == {
        "main@customer.example": True,
        "extra@customer.example": False,
    }


async def test_invalid_corrections_change_nothing(app):
    ticket = await ticket_with_contacts()
    token = token_for(app, ticket.id, "main@customer.example")
    with pytest.raises(Invalid) as error:
        await contacts.confirm_contacts(
            token=token, corrections={"email": "a@b.example, c@d.example"}, config=app.config
        )
    assert "email" in error.value.errors
    with pytest.raises(Invalid):
        await contacts.confirm_contacts(
            token=token, corrections={"organisation_hid": "ORG-9"}, config=app.config
        )
    assert await ConsumedToken.all().count() == 0
    await contacts.read_link(token=token, config=app.config)


async def test_twenty_concurrent_confirmations_of_one_link_make_one(app):
    ticket = await ticket_with_contacts()
    token = token_for(app, ticket.id, "main@customer.example")
    results = await asyncio.gather(
        *(
            contacts.confirm_contacts(
                token=token, corrections={"phoneNumber": f"0113 496 00{i:02}"}, config=app.config
            )
            for i in range(20)
        ),
        return_exceptions=True,
    )
    assert sum(isinstance(r, Event) for r in results) == 1
    assert all(isinstance(r, LinkUsed) for r in results if not isinstance(r, Event))
    assert await Event.filter(key="contacts.confirmed").count() == 1
    assert await TicketHistory.filter(field="contact.phoneNumber").count() == 1


async def test_used_link_is_refused_even_with_a_respelled_signature(app):
    ticket = await ticket_with_contacts()
    token = token_for(app, ticket.id, "main@customer.example")
    await contacts.confirm_contacts(token=token, corrections=None, config=app.config)
    # The signature's last base64 character has spare bits: a few other spellings still verify.
    body, _, signature = token.rpartition(".")
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    refusals = []
    for variant in [f"{body}.{signature[:-1]}{c}" for c in alphabet]:
        with pytest.raises(LinkRefused) as error:
            await contacts.confirm_contacts(token=variant, corrections=None, config=app.config)
        refusals.append(type(error.value))
    assert refusals.count(LinkUsed) > 1
    assert await Event.filter(key="contacts.confirmed").count() == 1


async def test_expiry_is_exact_at_the_boundary(app):
    ticket = await ticket_with_contacts()
    token = token_for(app, ticket.id, "main@customer.example")
    limit = signed_at(app, token) + timedelta(hours=app.config["CONFIRM_LINK_HOURS"])
    with pytest.raises(LinkExpired):
        await contacts.confirm_contacts(
            token=token, corrections=None, config=app.config, now=limit + timedelta(seconds=1)
        )
    assert await ConsumedToken.all().count() == 0
    await contacts.confirm_contacts(token=token, corrections=None, config=app.config, now=limit)


@pytest.mark.parametrize(
    "spoil",
    [
        lambda app, t: t[:-3] + ("AAA" if not t.endswith("AAA") else "BBB"),
        lambda app, t: "",
        lambda app, t: "not-a-token",
        lambda app, t: token_for(app, 1, "main@customer.example", salt="helpdesk.password-reset"),
        lambda app, t: URLSafeTimedSerializer("another-secret", salt=contacts.CONFIRM_SALT).dumps(
            {"ticket": 1}
        ),
        lambda app, t: URLSafeTimedSerializer(app.config["SECRET_KEY"], salt=contacts.CONFIRM_SALT).dumps(
            [1, 2]
        ),
        lambda app, t: "é.ü.ß",
    ],
    ids=["tampered", "empty", "malformed", "other-purpose", "other-key", "wrong-shape", "non-ascii"],
)
async def test_bad_tokens_are_refused_and_change_nothing(app, spoil):
    ticket = await ticket_with_contacts()
    token = spoil(app, token_for(app, ticket.id, "main@customer.example"))
    with pytest.raises(LinkRefused):
        await contacts.confirm_contacts(token=token, corrections={"phoneNumber": "9"}, config=app.config)
    assert await ConsumedToken.all().count() == 0 and await Event.all().count() == 0


async def test_link_for_another_ticket_or_a_gone_ticket_is_refused(app):
    ticket, other = await ticket_with_contacts(), await make_ticket()
    with pytest.raises(LinkGone):
        await contacts.read_link(token=token_for(app, other.id, "main@customer.example"), config=app.config)
    await Ticket.filter(id=ticket.id).update(deleted_at=ticket.created_at)
    with pytest.raises(LinkGone):
        await contacts.read_link(token=token_for(app, ticket.id, "main@customer.example"), config=app.config)
    with pytest.raises(LinkGone):
        await contacts.read_link(token=token_for(app, 999999, "main@customer.example"), config=app.config)


async def test_disabled_contact_gets_no_link_and_its_link_is_refused(app):
    ticket = await ticket_with_contacts()
    with pytest.raises(LinkGone):
        await contacts.read_link(token=token_for(app, ticket.id, "off@customer.example"), config=app.config)


async def test_notifications_go_to_enabled_contacts_with_events(app, mailbox):
    agent = await make_agent()
    ticket = await make_ticket(actor=agent, contacts=CONTACTS, title="Phones down")
    created = await Event.get(ticket=ticket)
    assert (created.key, created.value) == ("notification.ticket.create", "Create ticket notification sent.")
    await TicketAttribute.filter(ticket=ticket, value="off@customer.example").update(enabled=False)
    await tickets.post_comment(human_id=ticket.human_id, body="We rebooted the <switch>.", actor=agent)
    await tickets.post_comment(human_id=ticket.human_id, body="internal", actor=agent, internal=True)
    assert await Event.filter(ticket=ticket).values_list("key", flat=True) == [
        "notification.ticket.create",
        "notification.ticket.reply",
    ]
    assert await outbox.deliver_due(mailbox.config(app.config)) == 5  # 3 received (off was on), 2 replies
    replies = [m for m in mailbox.messages if "new reply" in m["Subject"]]
    assert {m["To"] for m in replies} == {"main@customer.example", "extra@customer.example"}
    assert "&lt;switch&gt;" in replies[0].get_body(("html",)).get_content()
    assert "<switch>" in replies[0].get_body(("plain",)).get_content()


async def test_ticket_without_email_contacts_sends_nothing(app):
    ticket = await make_ticket()
    assert not await Event.filter(ticket=ticket).exists()
    asked = await contacts.request_confirmation(ticket=ticket, actor=await make_agent(), config=app.config)
    assert asked.event.value == "No enabled email contact to notify."
    assert await OutboxEmail.all().count() == 0


async def test_asking_again_within_a_minute_is_the_same_request_and_sends_nothing(app):
    ticket, agent = await ticket_with_contacts(), await make_agent()
    first = await contacts.request_confirmation(ticket=ticket, actor=agent, config=app.config)
    sent = await OutboxEmail.filter(ticket=ticket).count()
    again = await contacts.request_confirmation(ticket=ticket, actor=agent, config=app.config)
    assert (first.repeated, again.repeated, again.event.id) == (False, True, first.event.id)
    assert await OutboxEmail.filter(ticket=ticket).count() == sent
    assert await Event.filter(ticket=ticket, key=contacts.REQUEST_KEY).count() == 1
    await Event.filter(ticket=ticket).update(created_at=datetime.now(UTC) - timedelta(minutes=2))
    later = await contacts.request_confirmation(ticket=ticket, actor=agent, config=app.config)
    assert not later.repeated and later.event.id != first.event.id
    assert await Event.filter(ticket=ticket, key=contacts.REQUEST_KEY).count() == 2


async def test_a_double_click_sends_one_set_of_emails(app):
    ticket, agent = await ticket_with_contacts(), await make_agent()
    results = await asyncio.gather(
        *(contacts.request_confirmation(ticket=ticket, actor=agent, config=app.config) for _ in range(2))
    )
    assert sorted(result.repeated for result in results) == [False, True]
    assert len({result.event.id for result in results}) == 1
    assert await Event.filter(ticket=ticket, key=contacts.REQUEST_KEY).count() == 1
    assert await OutboxEmail.filter(ticket=ticket).count() == len(await contacts.email_contacts(ticket))


async def test_the_ticket_page_status_reads_the_contact_rows_it_is_given(app):
    """The page passes the contact rows it already read: the same status as reading them again."""
    ticket = await ticket_with_contacts()
    agent = await make_agent()
    await contacts.request_confirmation(ticket=ticket, actor=agent, config=app.config)
    rows = await ticket_contacts.list_contacts(ticket=ticket, actor=agent)
    given = await contacts.confirmation_status(ticket=ticket, actor=agent, contacts=rows)
    assert given == await contacts.confirmation_status(ticket=ticket, actor=agent)
    assert [c.address for c in given.contacts] == await contacts.email_contacts(ticket)
    assert given.requested_at is not None


async def test_customers_get_no_confirmation_status_even_for_their_own_ticket(app):
    ticket = await ticket_with_contacts()
    with pytest.raises(NotFound):
        await contacts.confirmation_status(ticket=ticket, actor=await make_customer("ORG-1"))


async def test_one_read_of_contacts_serves_the_panel_the_emails_and_the_link(app):
    """contacts.contact_rows is the one read: each face filters the same rows its own way."""
    ticket, other, agent = await ticket_with_contacts(), await make_ticket(), await make_agent()
    found = await contacts.contact_rows([ticket.id, other.id, 999_999])
    assert found[999_999] == []
    only = await contacts.contact_rows([ticket.id], keys=("additionalEmail",), enabled_only=True)
    assert [row.value for row in only[ticket.id]] == ["extra@customer.example", "MAIN@customer.example"]
    assert [row.ticket_id for row in found[ticket.id]] == [ticket.id] * len(found[ticket.id])
    panel = await ticket_contacts.list_contacts(ticket=ticket, actor=agent)
    assert panel == found[ticket.id]
    assert "off@customer.example" in [row.value for row in panel if not row.enabled]
    # The emails skip the disabled address and the repeat of the main one in other letters.
    assert await contacts.email_contacts(ticket) == [
        "main@customer.example",
        "extra@customer.example",
    ]
    link = await contacts.read_link(
        token=token_for(app, ticket.id, "extra@customer.example"), config=app.config
    )
    assert [row.value for row in link.contacts] == ["extra@customer.example"]
    with pytest.raises(LinkGone):
        await contacts.read_link(token=token_for(app, ticket.id, "off@customer.example"), config=app.config)
