"""Finding 5 of issue 12: a contact's link reaches only that contact's own details. What they say
about the others waits for the agents as a proposal; the old main address is told when it changes."""

import pytest
from itsdangerous import URLSafeTimedSerializer

from helpdesk.errors import Conflict, Forbidden, Invalid, NotFound
from helpdesk.models import ContactProposal, OutboxEmail, Ticket, TicketAttribute, TicketHistory
from helpdesk.services import contacts, ticket_contacts, tickets
from helpdesk.services.history import PROPOSAL
from helpdesk.services.tickets import Contacts, TicketChanges
from tests.factories import make_agent, make_customer, make_ticket

MAIN, CC = "main@customer.example", "cc@customer.example"


async def ticket_with_contacts() -> Ticket:
    rows = Contacts(main_email=MAIN, phone_number="0113 496 0456", additional_emails=[CC])
    ticket = await make_ticket(contacts=rows, title="Phones down", description="No dial tone")
    await OutboxEmail.filter(ticket=ticket).delete()
    return ticket


def token_for(app, ticket_id: int, address: str) -> str:
    serializer = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt=contacts.CONFIRM_SALT)
    return serializer.dumps({"ticket": ticket_id, "address": address})


async def main_email(ticket: Ticket) -> str:
    return (await TicketAttribute.get(ticket=ticket, key="mainEmail")).value


async def test_a_cc_link_shows_and_changes_only_the_cc_address(app):
    ticket = await ticket_with_contacts()
    token = token_for(app, ticket.id, CC)
    link = await contacts.read_link(token=token, config=app.config)
    assert not link.main and [(row.key, row.value) for row in link.contacts] == [("additionalEmail", CC)]
    for corrections in ({"mainEmail": "attacker@evil.example"}, {"phoneNumber": "0113 496 0666"}):
        with pytest.raises(Invalid):
            await contacts.confirm_contacts(token=token, corrections=corrections, config=app.config)
    assert await main_email(ticket) == MAIN
    assert (await TicketAttribute.get(ticket=ticket, key="phoneNumber")).value == "0113 496 0456"
    await contacts.confirm_contacts(
        token=token, corrections={"email": "cc.new@customer.example"}, config=app.config
    )
    assert await main_email(ticket) == MAIN
    row = await TicketAttribute.get(ticket=ticket, key="additionalEmail")
    assert (row.value, row.consent) == ("cc.new@customer.example", "pending")
    [invitation] = await OutboxEmail.filter(recipient="cc.new@customer.example")
    assert "Phones down" not in invitation.body_text and "No dial tone" not in invitation.body_text
    assert not await OutboxEmail.filter(recipient=MAIN).exists()  # the main email did not change


async def test_the_main_contacts_link_shows_their_address_phone_and_method(app):
    ticket = await ticket_with_contacts()
    link = await contacts.read_link(token=token_for(app, ticket.id, MAIN), config=app.config)
    assert link.main and [row.key for row in link.contacts] == ["mainEmail", "phoneNumber"]


async def test_a_note_about_the_others_waits_for_the_agents(app):
    ticket = await ticket_with_contacts()
    note = "The main contact left the company; write to Priya at priya@customer.example."
    token = token_for(app, ticket.id, CC)
    await contacts.confirm_contacts(token=token, corrections=None, note=note, config=app.config)
    assert await main_email(ticket) == MAIN
    agent = await make_agent()
    [proposal] = await ticket_contacts.open_proposals(ticket=ticket, actor=agent)
    assert (proposal.address, proposal.note) == (CC, note)
    history = await TicketHistory.get(ticket=ticket, field=PROPOSAL)
    assert (history.actor_label, history.new_value) == (CC, note)
    assert (await contacts.confirmation_status(ticket=ticket, actor=await make_agent())).answered


async def test_a_note_is_bounded(app):
    ticket = await ticket_with_contacts()
    with pytest.raises(Invalid) as error:
        await contacts.confirm_contacts(
            token=token_for(app, ticket.id, CC), corrections=None, note="x" * 2001, config=app.config
        )
    assert "note" in error.value.errors and not await ContactProposal.exists()


async def test_agents_accept_or_dismiss_a_proposal_once_with_history(app):
    ticket = await ticket_with_contacts()
    for address in (MAIN, CC):
        token = token_for(app, ticket.id, address)
        await contacts.confirm_contacts(
            token=token, corrections=None, note=f"from {address}", config=app.config
        )
    first, second = await ContactProposal.filter(ticket=ticket).order_by("id")
    agent = await make_agent(name="Priya")
    await ticket_contacts.decide_proposal(
        human_id=ticket.human_id, proposal_id=first.id, accept=True, actor=agent
    )
    await ticket_contacts.decide_proposal(
        human_id=ticket.human_id, proposal_id=second.id, accept=False, actor=agent
    )
    assert await ticket_contacts.open_proposals(ticket=ticket, actor=agent) == []
    decided = await TicketHistory.filter(ticket=ticket, field=PROPOSAL, actor=agent).order_by("id")
    assert [(h.actor_label, h.old_value, h.new_value) for h in decided] == [
        ("Priya", f"{MAIN}: from {MAIN}", "accepted"),
        ("Priya", f"{CC}: from {CC}", "dismissed"),
    ]
    assert (await ContactProposal.get(id=first.id)).decided_by_id == agent.id
    with pytest.raises(Conflict):
        await ticket_contacts.decide_proposal(
            human_id=ticket.human_id, proposal_id=first.id, accept=False, actor=agent
        )


async def test_customers_cannot_see_or_decide_proposals(app):
    ticket = await ticket_with_contacts()
    token = token_for(app, ticket.id, CC)
    await contacts.confirm_contacts(token=token, corrections=None, note="hello", config=app.config)
    proposal = await ContactProposal.get(ticket=ticket)
    customer = await make_customer(organisation_hid=ticket.organisation_hid)
    with pytest.raises(NotFound):
        await ticket_contacts.open_proposals(ticket=ticket, actor=customer)
    with pytest.raises(Forbidden):
        await ticket_contacts.decide_proposal(
            human_id=ticket.human_id, proposal_id=proposal.id, accept=True, actor=customer
        )
    other = await make_ticket()
    with pytest.raises(NotFound):  # a proposal is decided on its own ticket only
        await ticket_contacts.decide_proposal(
            human_id=other.human_id, proposal_id=proposal.id, accept=True, actor=await make_agent()
        )
    assert (await ContactProposal.get(id=proposal.id)).status == "open"


def assert_change_notice(email: OutboxEmail, ticket: Ticket, new: str | None) -> None:
    assert email.recipient == MAIN and ticket.human_id in email.subject
    for text in (email.subject, email.body_text, email.body_html):
        assert "Phones down" not in text and "No dial tone" not in text
        assert new is None or new not in text


async def test_the_old_main_address_is_told_when_its_holder_changes_it(app):
    ticket = await ticket_with_contacts()
    token = token_for(app, ticket.id, MAIN)
    await contacts.confirm_contacts(
        token=token, corrections={"email": "me@newjob.example"}, config=app.config
    )
    row = await TicketAttribute.get(ticket=ticket, key="mainEmail")
    assert (row.value, row.consent) == ("me@newjob.example", "pending")
    [notice] = await OutboxEmail.filter(recipient=MAIN)
    assert_change_notice(notice, ticket, "me@newjob.example")
    assert "m***@n***.example" in notice.body_text
    assert (
        await OutboxEmail.filter(recipient="me@newjob.example", subject__contains="Do you want").count() == 1
    )


async def test_the_old_main_address_is_told_when_an_agent_changes_or_removes_it(app):
    ticket = await ticket_with_contacts()
    agent = await make_agent()
    changes = TicketChanges(
        values={}, contacts=Contacts(main_email="new@customer.example"), contact_keys={"main_email"}
    )
    await tickets.update_ticket(human_id=ticket.human_id, changes=changes, actor=agent)
    [notice] = await OutboxEmail.filter(recipient=MAIN)
    assert_change_notice(notice, ticket, "new@customer.example")
    row = await TicketAttribute.get(ticket=ticket, key="mainEmail")
    assert (row.value, row.consent) == ("new@customer.example", "trusted")
    changes = TicketChanges(values={}, contacts=Contacts(main_email=None), contact_keys={"main_email"})
    await tickets.update_ticket(human_id=ticket.human_id, changes=changes, actor=agent)
    [removed] = await OutboxEmail.filter(recipient="new@customer.example")
    assert "removed" in removed.body_text


async def test_an_address_that_never_opted_in_is_not_told(app):
    customer = await make_customer(human_id="USR-9", email="me@acme.example")
    data = tickets.NewTicket(
        organisation_hid="ORG-1", contract_hid="C", tenant_hid="1", reporter_hid="USR-9", description="x",
        contacts=Contacts(main_email="stranger@elsewhere.example"),
    )  # fmt: skip
    ticket = await tickets.create_ticket(data=data, actor=customer)
    changes = TicketChanges(
        values={}, contacts=Contacts(main_email="me@acme.example"), contact_keys={"main_email"}
    )
    await tickets.update_ticket(human_id=ticket.human_id, changes=changes, actor=await make_agent())
    assert await OutboxEmail.filter(recipient="stranger@elsewhere.example").count() == 1  # the invitation


def test_masked_addresses_keep_only_a_hint():
    assert contacts.mask_address("attacker@evil.example") == "a***@e***.example"
    assert contacts.mask_address("x@localhost") == "x***@l***"
