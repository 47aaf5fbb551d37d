"""Canned replies on the web: the picker fills the reply box (escaped), the management screens."""

from markupsafe import escape

from helpdesk.models import CannedReply
from helpdesk.services import canned
from tests.factories import make_admin, make_agent, make_customer, make_ticket
from tests.web.conftest import HTMX, csrf_token, sign_in

XSS = '<script>alert("x")</script>'


async def test_the_picker_lists_replies_and_inserting_one_fills_the_box_escaped(client):
    agent = await make_agent(name="Priya")
    ticket = await make_ticket(actor=agent, title=XSS)
    reply = await canned.create_reply(
        title="Thanks", body="Hi, {ticket_title} by {agent_name}", shared=False, actor=agent
    )
    await sign_in(client, agent)
    page = await (await client.get(f"/tickets/{ticket.human_id}")).get_data(as_text=True)
    assert 'id="canned-open"' in page and "canned.js" in page
    listed = await (await client.get(f"/tickets/{ticket.human_id}/canned", headers=HTMX)).get_data(
        as_text=True
    )
    assert listed.lstrip().startswith('<div id="canned-list"') and ">Thanks</a>" in listed
    response = await client.get(f"/tickets/{ticket.human_id}/canned/{reply.id}", headers=HTMX)
    html = await response.get_data(as_text=True)
    assert response.status_code == 200 and html.lstrip().startswith("<textarea") and 'id="body"' in html
    assert XSS not in html and str(escape(f"Hi, {XSS} by Priya")) in html
    plain = await (await client.get(f"/tickets/{ticket.human_id}/canned/{reply.id}")).get_data(as_text=True)
    assert 'id="tickets-reply"' in plain and "by Priya" in plain  # without htmx: the reply form, filled


async def test_agents_manage_their_own_and_admins_the_shared(client):
    agent = await make_agent()
    await sign_in(client, agent)
    token = await csrf_token(client, "/canned")
    response = await client.post(
        "/canned", form=dict(csrf_token=token, title="Mine", body="Text", shared="y")
    )
    assert response.status_code == 403 and "Only admins" in await response.get_data(as_text=True)
    response = await client.post("/canned", form={"csrf_token": token, "title": "Mine", "body": "Text"})
    assert response.status_code == 303
    reply = await CannedReply.get(title="Mine")
    assert reply.owner_id == agent.id
    response = await client.post(f"/canned/{reply.id}", form={"csrf_token": token, "title": "", "body": "T"})
    assert response.status_code == 422
    response = await client.post(
        f"/canned/{reply.id}", form={"csrf_token": token, "title": "New", "body": "T"}
    )
    assert response.status_code == 303 and (await CannedReply.get(id=reply.id)).title == "New"
    response = await client.post(f"/canned/{reply.id}/delete", form={"csrf_token": token})
    assert response.status_code == 303 and not await CannedReply.exists(id=reply.id)
    assert (await client.post("/canned", form={"title": "x", "body": "y"})).status_code == 400


async def test_an_admin_adds_a_shared_reply_every_agent_sees_but_cannot_edit(client, app):
    admin, agent = await make_admin(), await make_agent()
    await sign_in(client, admin)
    token = await csrf_token(client, "/canned")
    form = dict(csrf_token=token, title="Outage", body="We know", shared="y")
    assert (await client.post("/canned", form=form)).status_code == 303
    reply = await CannedReply.get(title="Outage")
    assert reply.owner_id is None
    other = app.test_client()
    await sign_in(other, agent)
    page = await (await other.get("/canned")).get_data(as_text=True)
    assert "Outage" in page and f"/canned/{reply.id}/delete" not in page
    assert (await other.get(f"/canned/{reply.id}")).status_code == 403


async def test_customers_get_no_canned_replies(client):
    agent = await make_agent()
    customer = await make_customer(organisation_hid="ORG-1")
    ticket = await make_ticket(actor=agent, organisation_hid="ORG-1")
    reply = await canned.create_reply(title="Shared", body="x", shared=False, actor=agent)
    await sign_in(client, customer)
    page = await (await client.get(f"/tickets/{ticket.human_id}")).get_data(as_text=True)
    assert "canned" not in page
    for path in (
        "/canned",
        f"/tickets/{ticket.human_id}/canned",
        f"/tickets/{ticket.human_id}/canned/{reply.id}",
    ):
        assert (await client.get(path)).status_code == 403
