"""Stored XSS: whatever people type is shown as text, wherever it appears."""

import pytest
from markupsafe import escape

from helpdesk.models import TicketAttribute, User
from helpdesk.services import tickets
from tests.factories import make_admin, make_agent, make_ticket
from tests.web.conftest import HTMX, sign_in

PAYLOADS = [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(2)">',
    "<details open ontoggle=alert(3)>",
    '<a href="javascript:alert(4)">click</a>',
    '<div hx-get="/logout" hx-trigger="load">x</div>',
]


def assert_inert(html: str, payload: str) -> None:
    assert payload not in html
    assert str(escape(payload)) in html


@pytest.mark.parametrize("payload", PAYLOADS)
async def test_user_text_is_escaped_on_every_screen(client, payload):
    agent = await make_admin(name=payload)
    contacts = tickets.Contacts(main_email="main@customer.example")
    ticket = await make_ticket(
        actor=agent, title=payload, description=payload, contacts=contacts, assignee_id=agent.id
    )
    await TicketAttribute.filter(ticket=ticket).update(value=payload)  # stored before any rule held
    await tickets.post_comment(human_id=ticket.human_id, body=payload, actor=agent)
    await tickets.post_comment(human_id=ticket.human_id, body=payload, actor=agent, internal=True)
    await User.filter(id=agent.id).update(organisation_hid=payload)
    await sign_in(client, agent)
    paths = ["/queues/open", f"/tickets/{ticket.human_id}", "/admin/users", f"/admin/users/{agent.id}"]
    paths += [f"/tickets/{ticket.human_id}/{panel}" for panel in ("header", "thread", "contacts", "history")]
    for path in paths:
        for headers in ({}, HTMX):
            response = await client.get(path, headers=headers)
            assert response.status_code == 200, path
            assert_inert(await response.get_data(as_text=True), payload)


async def test_search_terms_are_escaped_when_echoed(client):
    await sign_in(client, await make_agent())
    response = await client.get('/queues/open?q="><script>alert(1)</script>')
    html = await response.get_data(as_text=True)
    assert "<script>alert(1)" not in html and "&lt;script&gt;" in html
