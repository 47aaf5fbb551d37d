"""The new-ticket form names its organisation and reporter from the directory, warns before filing
for ones it does not know, and never asks a customer for contract and tenant IDs (issue 16 item 2)."""

import re

from helpdesk.models import Organisation, Ticket
from tests.factories import make_admin, make_agent, make_customer, make_organisation, make_ticket
from tests.web.conftest import HTMX, csrf_from, csrf_token, sign_in

FILED = {"title": "VPN down", "description": "Since 9am", "contract": "CON-1", "tenant": "1"}


async def file(client, **fields: str):
    form = {"csrf_token": await csrf_token(client, "/tickets/new")} | FILED | fields
    return await client.post("/tickets/new", form=form, headers=HTMX)


async def test_an_agent_names_the_organisation_by_name_and_the_reporter_by_name(client):
    await make_organisation("ORG-7", name="Acme", legal_name="Acme Widgets plc")
    await make_customer("ORG-7", human_id="USR-70", name="Bob Stone", email="bob@acme.example")
    await sign_in(client, await make_agent())
    response = await file(client, organisation="acme widgets plc", reporter="Bob Stone")
    ticket = await Ticket.get(title="VPN down")
    assert response.headers["HX-Redirect"] == f"/tickets/{ticket.human_id}"
    assert (ticket.organisation_hid, ticket.reporter_hid) == ("ORG-7", "USR-70")


async def test_an_unknown_organisation_is_warned_about_and_filed_only_when_acknowledged(client):
    """The form took organisation "Acme Ltd" and reporter "Bob at Acme" without a word."""
    await make_organisation("ORG-7", name="Acme")
    await sign_in(client, await make_agent())
    warned = await file(client, organisation="Acme Ltd", reporter="Bob at Acme")
    html = await warned.get_data(as_text=True)
    assert warned.status_code == 422 and not await Ticket.exists()
    assert "The directory does not know the organisation or the reporter" in html
    assert 'id="organisation-error">Acme Ltd is not in the directory' in html
    assert re.search(r'<input[^>]*name="unknown_ok"', html), "the warning asks for a tick"
    filed = await file(client, organisation="Acme Ltd", reporter="Bob at Acme", unknown_ok="y")
    assert filed.status_code == 200 and filed.headers["HX-Redirect"].startswith("/tickets/INC-")
    assert (await Ticket.get(title="VPN down")).organisation_hid == "Acme Ltd"


async def test_an_earlier_reporter_of_the_organisation_needs_no_warning(client):
    await make_organisation("ORG-7", name="Acme")
    await make_ticket(organisation_hid="ORG-7", reporter_hid="EXT-5")
    await sign_in(client, await make_agent())
    response = await file(client, organisation="Acme", reporter="EXT-5")
    assert response.headers.get("HX-Redirect"), await response.get_data(as_text=True)


async def test_the_new_ticket_form_offers_the_directory_and_the_organisations_people(client):
    await make_organisation("ORG-7", name="Acme")
    await make_organisation("ORG-8", name="Other")
    await make_customer("ORG-7", human_id="USR-70", name="Bob Stone", email="bob@acme.example")
    await make_customer("ORG-8", human_id="USR-80", name="Bob Other", email="bob@other.example")
    await make_ticket(organisation_hid="ORG-7", reporter_hid="EXT-5")
    await sign_in(client, await make_agent())
    html = await (await client.get("/tickets/new")).get_data(as_text=True)
    organisation = re.search(r'<input[^>]*name="organisation"[^>]*>', html).group(0)
    assert 'list="queues-organisations"' in organisation and 'hx-get="/organisations/suggest"' in organisation
    reporter = re.search(r'<input[^>]*name="reporter"[^>]*>', html).group(0)
    assert 'list="tickets-reporters"' in reporter and 'hx-get="/tickets/new/reporters"' in reporter
    assert 'hx-include="#organisation"' in reporter
    names = await (await client.get("/organisations/suggest?organisation=acm", headers=HTMX)).get_data(
        as_text=True
    )
    assert '<option value="Acme">' in names
    people = await client.get("/tickets/new/reporters?organisation=Acme&reporter=bob", headers=HTMX)
    text = await people.get_data(as_text=True)
    assert text.lstrip().startswith('<datalist id="tickets-reporters">')
    assert '<option value="USR-70">Bob Stone · bob@acme.example</option>' in text and "USR-80" not in text
    everyone = await (await client.get("/tickets/new/reporters?organisation=ORG-7", headers=HTMX)).get_data(
        as_text=True
    )
    assert "USR-70" in everyone and '<option value="EXT-5">' in everyone


async def test_customers_get_no_reporter_suggestions(client):
    await make_organisation("ORG-7", name="Acme")
    await sign_in(client, await make_customer("ORG-7", human_id="USR-70"))
    assert (await client.get("/tickets/new/reporters?organisation=ORG-7")).status_code == 403


async def test_a_customers_form_asks_no_contract_or_tenant_and_the_ticket_takes_the_organisations(client):
    """The customer's form asked for contract and tenant IDs the customer cannot know."""
    await make_organisation("ORG-7", default_contract_hid="CON-77", default_tenant_hid="T-7")
    await sign_in(client, await make_customer("ORG-7", human_id="USR-70"))
    html = await (await client.get("/tickets/new")).get_data(as_text=True)
    assert 'name="contract"' not in html and 'name="tenant"' not in html
    form = {"csrf_token": csrf_from(html), "title": "Help", "description": "Please", "organisation": "ORG-7"}
    assert (await client.post("/tickets/new", form=form)).status_code == 303
    ticket = await Ticket.get(title="Help")
    assert (ticket.contract_hid, ticket.tenant_hid, ticket.reporter_hid) == ("CON-77", "T-7", "USR-70")


async def test_a_customer_whose_organisation_has_no_defaults_is_told_whom_to_ask(client):
    await make_organisation("ORG-7")
    await sign_in(client, await make_customer("ORG-7", human_id="USR-70"))
    form = {"csrf_token": await csrf_token(client, "/tickets/new"), "title": "Help", "description": "Please"}
    response = await client.post("/tickets/new", form=form | {"organisation": "ORG-7"})
    assert response.status_code == 422 and not await Ticket.exists()
    assert "Ask your helpdesk" in await response.get_data(as_text=True)


async def test_admins_set_an_organisations_default_contract_and_tenant(client):
    await sign_in(client, await make_admin())
    form = {"csrf_token": await csrf_token(client, "/admin/organisations"), "human_id": "ORG-7"}
    form |= {"name": "Acme", "legal_name": "Acme plc", "role": "customer"}
    response = await client.post(
        "/admin/organisations", form=form | {"default_contract": "CON-77", "default_tenant": "T-7"}
    )
    assert response.status_code == 303
    acme = await Organisation.get(human_id="ORG-7")
    assert (acme.default_contract_hid, acme.default_tenant_hid) == ("CON-77", "T-7")
    html = await (await client.get("/admin/organisations")).get_data(as_text=True)
    assert "<td>CON-77</td><td>T-7</td>" in html
