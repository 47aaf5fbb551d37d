"""Tags: one spelling per tag, added and removed by agents with history, never shown to customers."""

import pytest

from helpdesk.errors import Forbidden, Invalid, NotFound
from helpdesk.models import TicketHistory
from helpdesk.services import tags, tickets
from helpdesk.services.ticket_fields import TicketFilters
from tests.factories import make_agent, make_customer, make_ticket


def test_names_are_normalised_to_one_spelling():
    assert tags.normalise("  VPN  Outage ") == "vpn-outage"
    assert tags.normalise("Wi-Fi") == "wi-fi"


@pytest.mark.parametrize("bad", ["", "   ", "x" * 41, "<b>", "a/b"])
def test_bad_names_are_refused(bad):
    with pytest.raises(Invalid):
        tags.normalise(bad)


async def test_an_agent_adds_and_removes_a_tag_and_the_history_says_so(app):
    agent = await make_agent()
    ticket = await make_ticket(actor=agent)
    assert await tags.add_tag(ticket_id=ticket.id, name="VPN", actor=agent) is True
    assert await tags.add_tag(ticket_id=ticket.human_id, name="vpn", actor=agent) is False
    assert await tags.tags_of(ticket=ticket, actor=agent) == ["vpn"]
    assert await tags.remove_tag(ticket_id=ticket.id, name="VPN", actor=agent) is True
    assert await tags.remove_tag(ticket_id=ticket.id, name="vpn", actor=agent) is False
    assert await tags.tags_of(ticket=ticket, actor=agent) == []
    changes = (
        await TicketHistory.filter(ticket_id=ticket.id, field="tag")
        .order_by("id")
        .values_list("old_value", "new_value")
    )
    assert changes == [(None, "vpn"), ("vpn", None)]


async def test_customers_cannot_tag_nor_see_tags(app):
    agent, customer = await make_agent(), await make_customer(organisation_hid="ORG-1")
    ticket = await make_ticket(actor=agent, organisation_hid="ORG-1")
    await tags.add_tag(ticket_id=ticket.id, name="billing", actor=agent)
    with pytest.raises(Forbidden):
        await tags.add_tag(ticket_id=ticket.id, name="mine", actor=customer)
    with pytest.raises(Forbidden):
        await tags.remove_tag(ticket_id=ticket.id, name="billing", actor=customer)
    with pytest.raises(NotFound):
        await tags.tags_of(ticket=ticket, actor=customer)
    with pytest.raises(NotFound):
        await tags.suggest(prefix="bi", actor=customer)
    assert await tags.tags_for(ticket_ids=[ticket.id], actor=customer) == {}
    page = await tickets.list_tickets(actor=customer, filters=TicketFilters(tag="billing"))
    assert page.tickets == []  # the filter does not tell a customer which tickets carry a tag


async def test_suggestions_start_with_the_prefix_in_name_order(app):
    agent = await make_agent()
    ticket = await make_ticket(actor=agent)
    for name in ("network", "netflix", "billing", "net_ops"):
        await tags.add_tag(ticket_id=ticket.id, name=name, actor=agent)
    assert await tags.suggest(prefix="NET", actor=agent) == ["net_ops", "netflix", "network"]
    assert await tags.suggest(prefix="net_", actor=agent) == ["net_ops"]  # _ is no wildcard
    assert await tags.suggest(prefix=" ", actor=agent) == []


async def test_the_list_filters_by_tag_and_set_tags_makes_the_list_exact(app):
    agent = await make_agent()
    tagged, other = await make_ticket(actor=agent), await make_ticket(actor=agent)
    assert await tags.set_tags(ticket_id=tagged.id, names=["Outage", "vpn", "outage"], actor=agent) == [
        "outage",
        "vpn",
    ]
    await tags.add_tag(ticket_id=other.id, name="vpn", actor=agent)
    page = await tickets.list_tickets(actor=agent, filters=TicketFilters(tag="outage"))
    assert [t.id for t in page.tickets] == [tagged.id]
    assert await tickets.count_tickets(actor=agent, filters=TicketFilters(tag="vpn")) == 2
    await tags.set_tags(ticket_id=tagged.id, names=["vpn"], actor=agent)
    assert (await tags.tags_for(ticket_ids=[tagged.id, other.id], actor=agent)) == {
        tagged.id: ["vpn"],
        other.id: ["vpn"],
    }
