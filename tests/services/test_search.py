"""Full-text search over a ticket's title, description and thread, as the ticket lists use it."""

import pytest

from helpdesk.models import User
from helpdesk.services import search, tickets
from tests.factories import make_agent, make_customer, make_organisation, make_ticket


async def _found(actor: User, q: str) -> list[str]:
    page = await tickets.list_tickets(actor=actor, filters=tickets.TicketFilters(q=q))
    return [ticket.human_id for ticket in page.tickets]


@pytest.fixture
async def agent(app) -> User:
    return await make_agent()


@pytest.fixture
async def customer(app) -> User:
    return await make_customer()


async def test_matches_title_and_description(agent):
    by_title = await make_ticket(actor=agent, title="Router offline", description="Nothing loads")
    by_description = await make_ticket(actor=agent, title="Slow", description="The router reboots")
    other = await make_ticket(actor=agent, title="Invoice wrong", description="Charged twice")
    assert await _found(agent, "router") == [by_description.human_id, by_title.human_id]
    assert await _found(agent, "charged") == [other.human_id]


async def test_matches_a_public_reply_added_later(agent, customer):
    ticket = await make_ticket(actor=agent, title="Phones down", description="No dial tone")
    assert await _found(customer, "firmware") == []
    await tickets.post_comment(human_id=ticket.human_id, body="Firmware upgraded", actor=agent)
    assert await _found(agent, "firmware") == [ticket.human_id]
    assert await _found(customer, "firmware") == [ticket.human_id]


async def test_internal_notes_match_for_staff_only(agent, customer):
    ticket = await make_ticket(actor=agent, title="Phones down", description="No dial tone")
    await tickets.post_comment(
        human_id=ticket.human_id, body="Carrier fault raised", actor=agent, internal=True
    )
    await tickets.post_comment(human_id=ticket.human_id, body="Looking into it", actor=agent)
    assert await _found(agent, "carrier") == [ticket.human_id]
    assert await _found(customer, "carrier") == []
    assert await _found(customer, "phones carrier") == []
    assert await _found(customer, "phones looking") == [ticket.human_id]


async def test_terms_may_be_split_across_title_and_a_reply(agent):
    ticket = await make_ticket(actor=agent, title="Router offline", description="At head office")
    await make_ticket(actor=agent, title="Router offline", description="At the warehouse")
    await tickets.post_comment(human_id=ticket.human_id, body="Replaced the power supply", actor=agent)
    assert await _found(agent, "router power") == [ticket.human_id]
    assert await _found(agent, "router supply offline") == [ticket.human_id]


async def test_terms_match_as_prefixes_whatever_their_case(agent):
    ticket = await make_ticket(actor=agent, title="Voicemail not emailing", description="Since Monday")
    assert await _found(agent, "VOICE") == [ticket.human_id]
    assert await _found(agent, "voice mon") == [ticket.human_id]
    assert await _found(agent, "mail") == []  # a prefix, not a substring


async def test_editing_the_title_reindexes_the_ticket(agent):
    ticket = await make_ticket(actor=agent, title="Router offline", description="Nothing loads")
    await tickets.post_comment(human_id=ticket.human_id, body="Engineer booked", actor=agent)
    changes = tickets.TicketChanges(values={"title": "Switch offline"})
    await tickets.update_ticket(human_id=ticket.human_id, changes=changes, actor=agent)
    assert await _found(agent, "router") == []
    assert await _found(agent, "switch") == [ticket.human_id]
    assert await _found(agent, "switch engineer") == [ticket.human_id]  # the thread stays indexed


async def test_deleted_tickets_never_match(agent):
    kept = await make_ticket(actor=agent, title="Router offline", description="Nothing loads")
    gone = await make_ticket(actor=agent, title="Router offline", description="Nothing loads")
    await tickets.post_comment(human_id=gone.human_id, body="Router replaced", actor=agent)
    await tickets.delete_ticket(human_id=gone.human_id, actor=agent)
    assert await _found(agent, "router") == [kept.human_id]


async def test_no_terms_match_nothing(agent):
    await make_ticket(actor=agent, title="Router offline", description="Nothing loads")
    assert await _found(agent, "!!! ?") == []
    assert search.fts5_match("!!! ?", include_internal=True) is None
    assert search.tsquery("", include_internal=False) is None


def test_a_customers_query_never_reaches_internal_notes():
    assert search.fts5_match("Router VPN", include_internal=True) == '"Router"* AND "VPN"*'
    assert (
        search.fts5_match("Router VPN", include_internal=False) == '{doc comments} : ("Router"* AND "VPN"*)'
    )
    assert search.tsquery("Router VPN", include_internal=True) == "router:* & vpn:*"
    assert search.tsquery("Router VPN", include_internal=False) == "router:*AB & vpn:*AB"
    # However the box is filled, a customer's query keeps every term to the public columns/weights.
    for text in ["notes : carrier", "{notes} carrier", "carrier:*D", 'x") OR notes:(carrier']:
        match = search.fts5_match(text, include_internal=False)
        assert match.startswith("{doc comments} : (") and match.count("(") == 1
        assert all(
            part.endswith(":*AB") for part in search.tsquery(text, include_internal=False).split(" & ")
        )


async def test_a_huge_thread_keeps_taking_comments_and_title_edits(agent):
    """One document per ticket grew with every comment: on PostgreSQL past its 1 MB limit (every
    later comment and title edit was a 500), on SQLite re-indexing the whole thread each time.
    Search now reads a bounded part of the thread; the ticket keeps working past it."""
    ticket = await make_ticket(actor=agent, title="Logs attached", description="See the thread")

    def log(n: int) -> str:  # 100,000 characters of words no other comment has
        return " ".join(f"c{n}w{i:05d}" for i in range(100_000 // 10))

    for n in range(12):
        await tickets.post_comment(human_id=ticket.human_id, body=log(n), actor=agent)
        await tickets.post_comment(human_id=ticket.human_id, body=log(100 + n), actor=agent, internal=True)
    assert await _found(agent, "c0w00001") == [ticket.human_id]  # the start of the thread is searchable
    assert await _found(agent, "c100w00001") == [ticket.human_id]
    assert await _found(agent, "c11w09999") == []  # far past the bound: not indexed
    await tickets.update_ticket(
        human_id=ticket.human_id, changes=tickets.TicketChanges(values={"title": "Gateway logs"}), actor=agent
    )
    assert await _found(agent, "gateway") == [ticket.human_id]
    comment = await tickets.post_comment(human_id=ticket.human_id, body="still answering", actor=agent)
    assert comment.id


async def test_hyphenated_words_match_either_way(agent, customer):
    """ "wifi" found nothing while "wi-fi" found 38."""
    hyphen = await make_ticket(actor=agent, title="Wi-Fi drops", description="Every hour")
    joined = await make_ticket(actor=agent, title="Wifi drops", description="At reception")
    both = [joined.human_id, hyphen.human_id]
    for q in ("wifi", "wi-fi", "WI-FI drops", "wif"):
        assert await _found(agent, q) == both, q
        assert await _found(customer, q) == both, q
    changes = tickets.TicketChanges(values={"title": "E-mail bounces"})
    await tickets.update_ticket(human_id=hyphen.human_id, changes=changes, actor=agent)
    assert await _found(agent, "email") == [hyphen.human_id]  # an edited title is joined too
    assert await _found(agent, "wi-fi") == [joined.human_id]
    assert await _found(agent, "fi-wi") == []  # the parts in a row, not anywhere


async def test_a_ticket_number_finds_that_ticket(agent, customer):
    """Search found neither "INC-1972" nor "1972"."""
    wanted = await make_ticket(actor=agent, title="Printer jam", description="Tray 2")
    mentions = await make_ticket(actor=agent, title=f"Same as {wanted.human_id}", description="Again")
    await make_ticket(actor=agent, title="Unrelated", description="Nothing")
    for q in (wanted.human_id, wanted.human_id.lower(), str(wanted.id), f" {wanted.id} "):
        assert await _found(agent, q) == sorted([wanted.human_id, mentions.human_id], reverse=True), q
    other = await make_ticket(actor=agent, organisation_hid="ORG-2", title="Theirs", description="x")
    assert await _found(customer, other.human_id) == []  # another organisation's stays hidden
    assert await tickets.count_tickets(actor=agent, filters=tickets.TicketFilters(q=wanted.human_id)) == 2


async def test_an_organisations_name_finds_its_tickets(agent, customer):
    """Searching "Acme" found nothing: tickets do not carry their organisation's name."""
    await make_organisation("ORG-1", name="Acme Trading", legal_name="Acme Trading Ltd")
    await make_organisation("ORG-2", name="Globex", legal_name="Globex Corporation")
    acme = await make_ticket(actor=agent, title="Phones down", description="x")
    globex = await make_ticket(
        actor=agent, organisation_hid="ORG-2", title="Acme reseller asks", description="y"
    )
    hidden = await make_ticket(actor=agent, organisation_hid="ORG-2", title="Quiet", description="z")
    await tickets.post_comment(human_id=hidden.human_id, body="acme trading", actor=agent, internal=True)
    assert await _found(agent, "acme") == [hidden.human_id, globex.human_id, acme.human_id]
    assert await _found(agent, "ACME trad") == [hidden.human_id, acme.human_id]
    assert await _found(agent, "corporation") == [hidden.human_id, globex.human_id]
    assert await _found(customer, "acme") == [acme.human_id]  # ORG-1's customer: their own only
    assert await _found(customer, "globex") == []
    assert await _found(customer, "trading") == [acme.human_id]  # never through an internal note
    assert await tickets.count_tickets(actor=agent, filters=tickets.TicketFilters(q="acme")) == 3
