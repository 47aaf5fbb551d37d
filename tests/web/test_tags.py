"""The tags panel and the queue's tags: agents add (with suggestions) and remove; customers get none."""

from markupsafe import escape

from helpdesk.services import tags
from tests.factories import make_agent, make_customer, make_ticket
from tests.web.conftest import HTMX, csrf_token, sign_in


async def test_an_agent_adds_a_tag_from_the_ticket_page_and_sees_it(client):
    agent = await make_agent()
    ticket = await make_ticket(actor=agent)
    await sign_in(client, agent)
    page = await (await client.get(f"/tickets/{ticket.human_id}")).get_data(as_text=True)
    assert 'id="tickets-tags"' in page and "No tags." in page
    form = {"csrf_token": await csrf_token(client, f"/tickets/{ticket.human_id}"), "tag": " Printer Jam "}
    response = await client.post(f"/tickets/{ticket.human_id}/tags", form=form, headers=HTMX)
    html = await response.get_data(as_text=True)
    assert response.status_code == 200 and html.lstrip().startswith('<section id="tickets-tags"')
    assert "printer-jam" in html and "ticket-changed" in response.headers["HX-Trigger"]
    form["tag"] = "printer-jam"
    response = await client.post(f"/tickets/{ticket.human_id}/tags/remove", form=form, headers=HTMX)
    assert "printer-jam" not in await response.get_data(as_text=True)
    assert await tags.tags_for(ticket_ids=[ticket.id], actor=agent) == {}


async def test_a_bad_tag_comes_back_on_the_form_escaped_and_a_missing_token_is_400(client):
    agent = await make_agent()
    ticket = await make_ticket(actor=agent)
    await sign_in(client, agent)
    bad = '<img src=x onerror="alert(1)">'
    form = {"csrf_token": await csrf_token(client, f"/tickets/{ticket.human_id}"), "tag": bad}
    response = await client.post(f"/tickets/{ticket.human_id}/tags", form=form, headers=HTMX)
    html = await response.get_data(as_text=True)
    assert response.status_code == 422 and bad not in html and str(escape(bad)) in html
    response = await client.post(f"/tickets/{ticket.human_id}/tags", form={"tag": "x"}, headers=HTMX)
    assert response.status_code == 400
    assert await tags.tags_for(ticket_ids=[ticket.id], actor=agent) == {}


async def test_suggestions_list_the_tags_that_start_with_what_is_typed(client):
    agent = await make_agent()
    ticket = await make_ticket(actor=agent)
    await tags.add_tag(ticket_id=ticket.id, name="network", actor=agent)
    await tags.add_tag(ticket_id=ticket.id, name="billing", actor=agent)
    await sign_in(client, agent)
    response = await client.get("/tags/suggest?tag=net", headers=HTMX)
    html = await response.get_data(as_text=True)
    assert response.status_code == 200 and html.lstrip().startswith('<datalist id="tags-suggestions"')
    assert 'value="network"' in html and "billing" not in html


async def test_queue_rows_show_tags_and_the_queue_filters_by_tag(client):
    agent = await make_agent()
    tagged = await make_ticket(actor=agent, title="Tagged one")
    await make_ticket(actor=agent, title="Plain one")
    await tags.add_tag(ticket_id=tagged.id, name="Outage", actor=agent)
    await sign_in(client, agent)
    html = await (await client.get("/queues/open")).get_data(as_text=True)
    assert 'class="tag"' in html and ">outage</a>" in html and "Plain one" in html
    html = await (await client.get("/queues/open?tag=OUTAGE", headers=HTMX)).get_data(as_text=True)
    assert "Tagged one" in html and "Plain one" not in html


async def test_customers_get_no_tags_anywhere(client):
    agent = await make_agent()
    customer = await make_customer(organisation_hid="ORG-1")
    ticket = await make_ticket(actor=agent, organisation_hid="ORG-1", title="Their ticket")
    await tags.add_tag(ticket_id=ticket.id, name="secret-tag", actor=agent)
    await sign_in(client, customer)
    page = await (await client.get(f"/tickets/{ticket.human_id}")).get_data(as_text=True)
    assert "Their ticket" in page and "secret-tag" not in page and "tickets-tags" not in page
    queue = await (await client.get("/queues/open")).get_data(as_text=True)
    assert "Their ticket" in queue and "secret-tag" not in queue
    assert (await client.get(f"/tickets/{ticket.human_id}/tags")).status_code == 403
    assert (await client.get("/tags/suggest?tag=sec")).status_code == 403
    form = {"csrf_token": await csrf_token(client, f"/tickets/{ticket.human_id}"), "tag": "x"}
    assert (await client.post(f"/tickets/{ticket.human_id}/tags", form=form)).status_code == 403
    filtered = await (await client.get("/queues/open?tag=secret-tag")).get_data(as_text=True)
    assert "Their ticket" not in filtered
