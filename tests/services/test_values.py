"""Issue 13 item 3: one rule per kind of value. `a@b` is not an email address anywhere (the API
took it, the outbox then never mailed it); phone numbers must be possible in PHONE_REGION."""

import pytest

from helpdesk.errors import Invalid
from helpdesk.models import OutboxEmail, OutboxStatus, TicketAttribute
from helpdesk.services import outbox, ticket_contacts, users, values
from helpdesk.services.tickets import Contacts, TicketChanges, update_ticket
from tests.factories import make_admin, make_agent, make_ticket


@pytest.mark.parametrize(
    "address", ["a@b", "a b@c.example", "Pat <pat@acme.example>", "a@b.example,c@d.example"]
)
def test_what_is_not_one_email_address(address):
    assert values.email_error(address) and not values.is_email(address)


@pytest.mark.parametrize("address", ["pat@acme.example", "Pat.O+tag@Customer.Example", "ü@bücher.example"])
def test_what_is_one_email_address(address):
    assert values.is_email(address)


@pytest.mark.parametrize("number", ["0113 496 0000", "+44 20 7946 0000", "+1 202 555 0100", "447816432764"])
def test_possible_phone_numbers(number):
    assert values.is_phone(number)


@pytest.mark.parametrize("number", ["12", "666", "call me", "+44 1", "0113 496 0000 0000 0000"])
def test_impossible_phone_numbers(number):
    assert values.phone_error(number) == values.PHONE_MESSAGE


def test_a_number_without_country_code_is_read_in_the_configured_region():
    try:
        values.configure({"PHONE_REGION": "US"})
        assert values.is_phone("202 555 0100") and not values.is_phone("0113 496 0000")
    finally:
        values.configure({"PHONE_REGION": "GB"})


def test_contact_keys_are_one_enum_with_both_spellings():
    key = values.ContactKey.of_field("main_email")
    assert key == "mainEmail" and key.field == "main_email"
    assert [key.field for key in values.SINGLE_KEYS] == [
        "main_email",
        "phone_number",
        "preferred_contact_method",
    ]


async def test_a_ticket_whose_main_email_has_no_dot_in_its_domain_is_refused(app):
    with pytest.raises(Invalid) as error:
        await make_ticket(contacts=Contacts(main_email="a@b", preferred_contact_method="email"))
    assert list(error.value.errors) == ["attributes.mainEmail"]


async def test_an_update_to_an_impossible_phone_number_is_refused_and_changes_nothing(app):
    agent = await make_agent()
    ticket = await make_ticket(actor=agent, contacts=Contacts(phone_number="0113 496 0000"))
    changes = TicketChanges(values={}, contacts=Contacts(phone_number="12"), contact_keys={"phone_number"})
    with pytest.raises(Invalid) as error:
        await update_ticket(human_id=ticket.human_id, changes=changes, actor=agent)
    assert list(error.value.errors) == ["attributes.phoneNumber"]
    assert (await TicketAttribute.get(ticket=ticket, key="phoneNumber")).value == "0113 496 0000"


async def test_an_agent_cannot_set_a_contact_to_a_bad_value(app):
    agent = await make_agent()
    ticket = await make_ticket(actor=agent)
    for key, value in (("main_email", "a@b"), ("additional_email", "a@b"), ("phone_number", "666")):
        with pytest.raises(Invalid):
            await ticket_contacts.set_contact(human_id=ticket.human_id, key=key, value=value, actor=agent)
    assert not await TicketAttribute.filter(ticket=ticket).exists()


async def test_users_take_the_same_rules(app):
    admin = await make_admin()
    with pytest.raises(Invalid):
        await users.create_user(email="a@b", name="A", actor=admin)
    user = await users.create_user(email="a@b.example", name="A", actor=admin)
    with pytest.raises(Invalid):
        await users.update_user(user_id=user.id, changes={"email": "a@b"}, actor=admin)


async def test_the_outbox_holds_what_is_not_an_address(app, mailbox):
    await outbox.queue_email(recipient="a@b", subject="S", body_text="T", body_html="<p>T</p>")
    assert await outbox.deliver_due(mailbox.config(app.config)) == 0
    row = await OutboxEmail.get()
    assert row.status == OutboxStatus.HELD and "not an email address" in row.last_error
