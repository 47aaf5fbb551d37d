"""The ticket page reads its ticket once and batches its rows: a bounded number of queries, however
many comments, changes and contacts the ticket has."""

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from helpdesk.models import InboundEmail
from helpdesk.services import cache, presence, tags, ticket_links, tickets
from tests.factories import make_agent, make_customer, make_organisation, make_ticket
from tests.web.conftest import sign_in
from tests.web.test_attachments_web import PNG, reply

STATEMENT = re.compile(r"\s*(SELECT|INSERT|UPDATE|DELETE|WITH)\b", re.IGNORECASE)
TICKET_READ = re.compile(r'FROM "?ticket"?\s', re.IGNORECASE)
COMMENT_READ = re.compile(r'FROM "?comment"?\s', re.IGNORECASE)
# Before the page read its ticket once it sent 19 statements for an agent and 9 for a customer (7 and
# 4 of them reading the ticket); now the session and user, the ticket, its state and organisation,
# the select choices (states, groups, agents), the thread, the contacts, the confirmations, emails,
# changes and events: 14 and 7 with the per-process cache empty, and for agents one more since the
# emails panel lists the messages received too (issue 15), one more each for the thread's files
# (attachments, issue 15), the user's reply draft (issue 14 item 5) and the reporter shown by name
# (issue 16 tool 7), and for agents one each for the tags and the linked tickets (issue 16)...
MOST = {"agent": 20, "customer": 10}
# ...and with it warm only the ticket and the rows it has: the ticket (with its tags, and whether it
# has files, links, emails received and the reader's draft), the thread, the contacts, and for
# agents the confirmations, emails sent, changes and events. The reporter shown by name comes from
# the cache. Before the ticket's read said what it holds, a ticket with none of those cost five more
# reads for agents (files, draft, emails received, tags, links) and two for customers (files, draft),
# and the reporter one more each.
WARM = {"agent": 7, "customer": 3}


# The change feed's dispatcher reads new events every few hundred milliseconds in the background,
# and now and then the feed's bounds (whether it was reset), whatever request is running: not
# statements of the page being counted.
FEED_POLL = re.compile(r"\s*SELECT .* FROM feed_event(\s+WHERE id > |\)?:)", re.DOTALL)


class QueryLog(logging.Handler):
    """Every statement Tortoise sends, as its DEBUG log of `tortoise.db_client` names it, but the
    dispatcher's background reads of the feed."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.statements: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if STATEMENT.match(message) and not FEED_POLL.match(message):
            self.statements.append(message)

    def reads(self, table: re.Pattern) -> list[str]:
        return [s for s in self.statements if table.search(s)]


@contextmanager
def logged_queries() -> Iterator[QueryLog]:
    logger = logging.getLogger("tortoise.db_client")
    handler, level = QueryLog(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


async def add_comments(ticket, count: int) -> None:
    """Replies by `count` different agents, each a user the page must not look up one by one."""
    for n in range(count):
        author = await make_agent(name=f"Agent {n}")
        await tickets.post_comment(human_id=ticket.human_id, body=f"reply {n}", actor=author)


async def busy_ticket(agent):
    """A ticket with comments by several authors, a change, contacts and emails, reported by a user
    the directory has (the page names them)."""
    await make_organisation()
    reporter = await make_customer(human_id="USR-REPORTER", name="Rita Reporter")
    contacts = tickets.Contacts(main_email="ops@acme.example", additional_emails=["a@acme.example"])
    ticket = await make_ticket(actor=agent, contacts=contacts, reporter_hid=reporter.human_id)
    await add_comments(ticket, 2)
    changes = tickets.TicketChanges(values={"title": "Phones still down"})
    await tickets.update_ticket(human_id=ticket.human_id, changes=changes, actor=agent)
    return ticket


async def page_queries(client, human_id: str) -> QueryLog:
    with logged_queries() as log:
        response = await client.get(f"/tickets/{human_id}")
    page = await response.get_data(as_text=True)
    assert response.status_code == 200 and "reply 1" in page
    assert "Rita Reporter <small>(USR-REPORTER)</small>" in page  # the reporter, by name
    return log


@pytest.mark.parametrize("role", ["agent", "customer"])
async def test_the_ticket_page_reads_the_ticket_once_in_a_few_queries(client, role):
    agent = await make_agent(name="Priya Shah")
    ticket = await busy_ticket(agent)
    await sign_in(client, agent if role == "agent" else await make_customer())
    log = await page_queries(client, ticket.human_id)
    assert len(log.reads(TICKET_READ)) == 1, log.reads(TICKET_READ)
    assert len(log.reads(COMMENT_READ)) == 1, log.reads(COMMENT_READ)
    assert len(log.statements) <= MOST[role], "\n".join(log.statements)


@pytest.mark.parametrize("role", ["agent", "customer"])
async def test_with_the_cache_warm_the_page_reads_only_the_tickets_own_rows(client, role):
    agent = await make_agent(name="Priya Shah")
    ticket = await busy_ticket(agent)
    await sign_in(client, agent if role == "agent" else await make_customer())
    await page_queries(client, ticket.human_id)
    log = await page_queries(client, ticket.human_id)
    assert len(log.statements) == WARM[role], "\n".join(log.statements)


async def test_more_comments_and_authors_add_no_queries(client):
    agent = await make_agent(name="Priya Shah")
    ticket = await busy_ticket(agent)
    await sign_in(client, agent)
    cache.changed()  # both reads with the cache cold: new authors must not cost a query each
    before = await page_queries(client, ticket.human_id)
    await add_comments(ticket, 5)
    cache.changed()
    after = await page_queries(client, ticket.human_id)
    assert len(after.statements) == len(before.statements), "\n".join(after.statements)


async def test_what_the_ticket_holds_is_read_and_shown_when_it_has_it(client):
    """The page skips the reads of what the ticket's own read says it has none of: one that has
    everything shows everything (and the other ticket, linked to it, its link)."""
    agent = await make_agent(name="Priya Shah")
    ticket, other = await busy_ticket(agent), await make_ticket(actor=agent, title="Printer on fire")
    await sign_in(client, agent)
    await tags.add_tag(ticket_id=ticket.human_id, name="vpn", actor=agent)
    await ticket_links.link_tickets(human_id=ticket.human_id, other=other.human_id, actor=agent)
    await presence.save_draft(human_id=ticket.human_id, actor=agent, body="Half a reply")
    await InboundEmail.create(
        message_key="<in-1@example.com>", raw_message=b"", received_via="lmtp", sender="ops@acme.example",
        subject="Re: phones", next_attempt_at=ticket.created_at, created_at=ticket.created_at, ticket=ticket,
    )  # fmt: skip
    posted = await reply(client, ticket, "Screenshot attached", [("screen.png", PNG)])
    assert posted.status_code == 303, await posted.get_data(as_text=True)
    await presence.save_draft(human_id=ticket.human_id, actor=agent, body="Half a reply")
    page = await (await client.get(f"/tickets/{ticket.human_id}")).get_data(as_text=True)
    assert ">vpn<" in page and "Printer on fire" in page and "screen.png" in page
    assert "Half a reply</textarea>" in page and "Re: phones" in page
    linked = await (await client.get(f"/tickets/{other.human_id}")).get_data(as_text=True)
    assert "Phones still down" in linked and "screen.png" not in linked and "Half a reply" not in linked
