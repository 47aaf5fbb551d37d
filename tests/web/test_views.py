"""Saved views on the web: saved from a queue, listed with counts in the menu, edited and deleted."""

from urllib.parse import parse_qs, urlsplit

from markupsafe import escape

from helpdesk.models import Group, GroupMember, SavedView
from helpdesk.services import views
from tests.factories import make_agent, make_customer, make_ticket
from tests.web.conftest import HTMX, csrf_token, sign_in

XSS = '<img src=x onerror="alert(1)">'


async def test_an_agent_saves_the_queue_as_a_view_and_the_menu_counts_it(client):
    agent = await make_agent()
    await make_ticket(actor=agent, title="Printer jam")
    await make_ticket(actor=agent, title="Phones down")
    await sign_in(client, agent)
    queue = await (await client.get("/queues/open?q=printer&sort=-dateUpdated")).get_data(as_text=True)
    assert "Save as view" in queue and 'id="queues-views"' in queue
    form_page = await (await client.get("/views/new?q=printer&sort=-dateUpdated&queue=open")).get_data(
        as_text=True
    )
    assert 'name="q" value="printer"' in form_page
    form = {"csrf_token": await csrf_token(client, "/views/new?queue=open"), "name": XSS, "queue": "open"}
    response = await client.post("/views", form=form | {"q": "printer", "sort": "-dateUpdated"})
    assert response.status_code == 303
    location = urlsplit(response.headers["Location"])
    assert location.path == "/queues/open"
    assert parse_qs(location.query) == {"q": ["printer"], "sort": ["-dateUpdated"]}
    menu = await client.get("/views/menu", headers=HTMX)
    html = await menu.get_data(as_text=True)
    assert html.lstrip().startswith('<nav id="queues-views"') and XSS not in html and str(escape(XSS)) in html
    assert '<span class="visually-hidden">, </span>1<span' in html


async def test_a_bad_view_comes_back_on_the_form_and_a_missing_token_is_400(client):
    agent = await make_agent()
    await sign_in(client, agent)
    token = await csrf_token(client, "/views/new?queue=open")
    response = await client.post("/views", form={"csrf_token": token, "name": "", "queue": "open"})
    assert response.status_code == 422
    response = await client.post("/views", form={"csrf_token": token, "name": "X", "queue": "nowhere"})
    assert response.status_code == 422 and "No such queue" in await response.get_data(as_text=True)
    response = await client.post("/views", form={"name": "X", "queue": "open"})
    assert response.status_code == 400
    assert await SavedView.all().count() == 0


async def test_the_owner_edits_shares_and_deletes_a_view(client, app):
    owner, member = await make_agent(), await make_agent()
    group = await Group.create(name="Network")
    await GroupMember.create(group=group, user=owner)
    await GroupMember.create(group=group, user=member)
    view = await views.save_view(name="Mine", queue="open", filters={}, sort="", actor=owner)
    await sign_in(client, owner)
    token = await csrf_token(client, f"/views/{view.id}")
    response = await client.post(
        f"/views/{view.id}", form={"csrf_token": token, "name": "Ours", "share": str(group.id)}
    )
    assert response.status_code == 303
    other = app.test_client()
    await sign_in(other, member)
    html = await (await other.get("/views/menu", headers=HTMX)).get_data(as_text=True)
    assert "Ours" in html and f"/views/{view.id}" not in html  # listed, not editable by a member
    assert (await other.get(f"/views/{view.id}")).status_code == 404
    response = await client.post(f"/views/{view.id}/delete", form={"csrf_token": token})
    assert response.status_code == 303 and not await SavedView.exists(id=view.id)


async def test_views_are_invisible_to_non_members_and_customers(client, app):
    owner, outsider = await make_agent(), await make_agent()
    customer = await make_customer()
    group = await Group.create(name="Network")
    await GroupMember.create(group=group, user=owner)
    await views.save_view(
        name="Secret view", queue="open", filters={}, sort="", actor=owner, group_id=group.id
    )
    await sign_in(client, outsider)
    assert "Secret view" not in await (await client.get("/views/menu", headers=HTMX)).get_data(as_text=True)
    other = app.test_client()
    await sign_in(other, customer)
    queue = await (await other.get("/queues/open")).get_data(as_text=True)
    assert "queues-views" not in queue and "Save as view" not in queue
    for path in ("/views/menu", "/views/new?queue=open"):
        assert (await other.get(path)).status_code == 403


async def test_without_javascript_the_views_are_a_page_of_their_own(client):
    agent = await make_agent()
    await views.save_view(name="Printers", queue="open", filters={"q": "printer"}, sort="", actor=agent)
    await sign_in(client, agent)
    page = await (await client.get("/views/menu")).get_data(as_text=True)
    assert "<html" in page and "Printers" in page and "/queues/open?q=printer" in page


async def test_a_view_filtered_by_group_keeps_that_filter_apart_from_whom_it_is_shared_with(client):
    agent = await make_agent()
    network, desk = await Group.create(name="Network"), await Group.create(name="Desk")
    await GroupMember.create(group=desk, user=agent)
    await sign_in(client, agent)
    token = await csrf_token(client, "/views/new?queue=open")
    form = {"csrf_token": token, "name": "Network's", "queue": "open", "group": str(network.id)}
    response = await client.post("/views", form=form | {"share": str(desk.id)})
    assert response.status_code == 303
    saved = await SavedView.get(name="Network's")
    assert saved.group_id == desk.id and '"group": ' + str(network.id) in saved.filters
    assert parse_qs(urlsplit(response.headers["Location"]).query)["group"] == [str(network.id)]
