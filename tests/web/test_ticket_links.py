"""Linked tickets on the ticket page: link both ways, merge after a confirmation page; agents only."""

from helpdesk.models import Comment, TicketLink
from helpdesk.services import ticket_links, tickets
from tests.factories import make_agent, make_customer, make_ticket
from tests.web.conftest import HTMX, csrf_token, sign_in


async def test_linking_shows_on_both_ticket_pages(client):
    agent = await make_agent()
    one, two = await make_ticket(actor=agent, title="First"), await make_ticket(actor=agent, title="Second")
    await sign_in(client, agent)
    form = {"csrf_token": await csrf_token(client, f"/tickets/{one.human_id}"), "other": two.human_id}
    response = await client.post(f"/tickets/{one.human_id}/links/add", form=form, headers=HTMX)
    html = await response.get_data(as_text=True)
    assert response.status_code == 200 and html.lstrip().startswith('<section id="tickets-links"')
    assert f">{two.human_id}</a> Second" in html
    page = await (await client.get(f"/tickets/{two.human_id}")).get_data(as_text=True)
    assert f">{one.human_id}</a> First" in page
    form["other"] = one.human_id
    response = await client.post(f"/tickets/{one.human_id}/links/add", form=form, headers=HTMX)
    assert response.status_code == 422 and "itself" in await response.get_data(as_text=True)


async def test_merging_asks_first_then_merges_and_goes_to_the_target(client):
    agent = await make_agent()
    target, duplicate = (
        await make_ticket(actor=agent, title="Main"),
        await make_ticket(actor=agent, title="Dup"),
    )
    await tickets.post_comment(human_id=duplicate.human_id, body="me too", actor=agent)
    await sign_in(client, agent)
    form = {"csrf_token": await csrf_token(client, f"/tickets/{duplicate.human_id}"), "into": target.human_id}
    asked = await client.post(f"/tickets/{duplicate.human_id}/merge", form=form)
    html = await asked.get_data(as_text=True)
    assert asked.status_code == 200 and f"Merge {duplicate.human_id} into {target.human_id}?" in html
    assert await Comment.filter(ticket_id=duplicate.id).exists()  # nothing merged yet
    response = await client.post(f"/tickets/{duplicate.human_id}/merge", form=form | {"confirmed": "yes"})
    assert response.status_code == 303 and response.headers["Location"] == f"/tickets/{target.human_id}"
    page = await (await client.get(f"/tickets/{target.human_id}")).get_data(as_text=True)
    assert "me too" in page and "Merged from" in page and duplicate.human_id in page
    other = await make_ticket(actor=agent, organisation_hid="ORG-2")
    form["into"] = other.human_id
    refused = await client.post(f"/tickets/{target.human_id}/merge", form=form | {"confirmed": "yes"})
    assert refused.status_code == 422 and "different organisations" in await refused.get_data(as_text=True)


async def test_customers_get_no_links_panel_nor_merge(client):
    agent = await make_agent()
    customer = await make_customer(organisation_hid="ORG-1")
    one, two = await make_ticket(actor=agent), await make_ticket(actor=agent)
    await ticket_links.link_tickets(human_id=one.human_id, other=two.human_id, actor=agent)
    await sign_in(client, customer)
    page = await (await client.get(f"/tickets/{one.human_id}")).get_data(as_text=True)
    assert "tickets-links" not in page and two.human_id not in page
    token = await csrf_token(client, f"/tickets/{one.human_id}")
    merge = await client.post(
        f"/tickets/{one.human_id}/merge", form={"csrf_token": token, "into": two.human_id}
    )
    assert merge.status_code == 403
    assert (await client.get(f"/tickets/{one.human_id}/links")).status_code == 403
    assert await TicketLink.all().count() == 2
