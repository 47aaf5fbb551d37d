"""Editing a ticket from its page (the header becomes a form) and deleting it after asking."""

import json

from helpdesk.models import Ticket, TicketHistory
from tests.factories import make_admin, make_agent, make_customer, make_ticket
from tests.web.conftest import HTMX, csrf_token, sign_in


def edit_form(token: str, ticket: Ticket, **changes) -> dict:
    values = {"csrf_token": token, "version": ticket.version, "title": ticket.title}
    values |= {"description": ticket.description, "organisation": "ORG-1", "reporter": "USR-1"}
    return values | changes


async def test_the_header_offers_edit_to_agents_and_delete_to_admins_alone(client):
    ticket = await make_ticket()
    await sign_in(client, await make_agent())
    html = await (await client.get(f"/tickets/{ticket.human_id}")).get_data(as_text=True)
    assert f'href="/tickets/{ticket.human_id}/edit"' in html and "/delete" not in html
    await sign_in(client, await make_admin())
    html = await (await client.get(f"/tickets/{ticket.human_id}")).get_data(as_text=True)
    assert f'href="/tickets/{ticket.human_id}/delete"' in html


async def test_edit_is_a_partial_for_htmx_and_a_page_otherwise(client):
    ticket = await make_ticket()
    await sign_in(client, await make_agent())
    partial = await client.get(f"/tickets/{ticket.human_id}/edit", headers=HTMX)
    html = await partial.get_data(as_text=True)
    assert partial.status_code == 200
    assert '<section id="tickets-edit"' in html and "<html" not in html and 'value="Phones down"' in html
    page = await client.get(f"/tickets/{ticket.human_id}/edit")
    assert "<html" in await page.get_data(as_text=True) and "HX-Request" in page.headers["Vary"]


async def test_saving_an_edit_swaps_the_header_back_and_records_history(client):
    ticket = await make_ticket()
    await sign_in(client, await make_agent())
    token = await csrf_token(client, f"/tickets/{ticket.human_id}")
    form = edit_form(token, ticket, title="Phones down in <Leeds>")
    response = await client.post(f"/tickets/{ticket.human_id}/edit", form=form, headers=HTMX)
    html = await response.get_data(as_text=True)
    assert response.status_code == 200 and '<section id="tickets-header"' in html
    assert "Phones down in &lt;Leeds&gt;" in html and "<Leeds>" not in html
    assert "ticket-changed" in json.loads(response.headers["HX-Trigger"])
    assert (await Ticket.get(id=ticket.id)).title == "Phones down in <Leeds>"
    assert await TicketHistory.filter(ticket_id=ticket.id, field="title").count() == 1


async def test_without_javascript_a_save_redirects_to_the_ticket(client):
    ticket = await make_ticket()
    await sign_in(client, await make_agent())
    token = await csrf_token(client, f"/tickets/{ticket.human_id}")
    form = edit_form(token, ticket, title="T2")
    response = await client.post(f"/tickets/{ticket.human_id}/edit", form=form)
    assert response.status_code == 303 and response.headers["Location"] == f"/tickets/{ticket.human_id}"


async def test_bad_input_comes_back_on_the_form(client):
    ticket = await make_ticket()
    await sign_in(client, await make_agent())
    token = await csrf_token(client, f"/tickets/{ticket.human_id}")
    cases = [
        ({"title": ""}, 422, "This field is required."),
        ({"title": "x" * 300}, 422, "255"),
        ({"version": "abc"}, 422, "out of date"),
        ({"organisation": "Acme Ltd"}, 422, "File it anyway"),
        ({"csrf_token": "forged"}, 400, ""),
    ]
    for changes, status, text in cases:
        response = await client.post(
            f"/tickets/{ticket.human_id}/edit", form=edit_form(token, ticket, **changes), headers=HTMX
        )
        html = await response.get_data(as_text=True)
        assert response.status_code == status, (changes, html)
        assert '<section id="tickets-edit"' in html and text in html
    assert (await Ticket.get(id=ticket.id)).version == ticket.version


async def test_a_stale_version_is_a_conflict_on_the_form(client):
    ticket = await make_ticket()
    await sign_in(client, await make_agent())
    token = await csrf_token(client, f"/tickets/{ticket.human_id}")
    await client.post(f"/tickets/{ticket.human_id}/edit", form=edit_form(token, ticket, title="First"))
    response = await client.post(
        f"/tickets/{ticket.human_id}/edit", form=edit_form(token, ticket, title="Second"), headers=HTMX
    )
    assert response.status_code == 409
    assert "changed by someone else" in await response.get_data(as_text=True)
    assert (await Ticket.get(id=ticket.id)).title == "First"


async def test_customers_get_neither_edit_nor_delete(client):
    ticket = await make_ticket()
    await sign_in(client, await make_customer("ORG-1"))
    page = await (await client.get(f"/tickets/{ticket.human_id}")).get_data(as_text=True)
    assert "/edit" not in page and "/delete" not in page
    token = await csrf_token(client, "/account")
    for path in ("edit", "delete"):
        assert (await client.get(f"/tickets/{ticket.human_id}/{path}")).status_code == 403
    form = edit_form(token, ticket, title="Mine")
    response = await client.post(f"/tickets/{ticket.human_id}/edit", form=form)
    assert response.status_code == 403
    response = await client.post(f"/tickets/{ticket.human_id}/delete", form={"csrf_token": token})
    assert response.status_code == 403
    row = await Ticket.get(id=ticket.id)
    assert (row.title, row.deleted_at) == ("Phones down", None)


async def test_an_admin_is_asked_first_then_the_ticket_is_gone(client):
    ticket = await make_ticket()
    await sign_in(client, await make_agent())
    token = await csrf_token(client, f"/tickets/{ticket.human_id}")
    assert (await client.get(f"/tickets/{ticket.human_id}/delete")).status_code == 403
    delete = f"/tickets/{ticket.human_id}/delete"
    assert (await client.post(delete, form={"csrf_token": token})).status_code == 403
    await sign_in(client, await make_admin())
    ask = await client.get(f"/tickets/{ticket.human_id}/delete")
    html = await ask.get_data(as_text=True)
    assert ask.status_code == 200 and f"Delete {ticket.human_id}?" in html
    assert (await Ticket.get(id=ticket.id)).deleted_at is None
    token = await csrf_token(client, f"/tickets/{ticket.human_id}/delete")
    assert (await client.post(delete, form={"csrf_token": "x"})).status_code == 400
    response = await client.post(f"/tickets/{ticket.human_id}/delete", form={"csrf_token": token})
    assert response.status_code == 303 and response.headers["Location"] == "/"
    assert (await Ticket.get(id=ticket.id)).deleted_at is not None
    assert (await client.get(f"/tickets/{ticket.human_id}")).status_code == 404
