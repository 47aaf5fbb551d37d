"""Error pages: HTML in the site's style outside /api, the API keeps its JSON."""

from tests.factories import make_agent
from tests.web.conftest import HTMX, sign_in


async def test_unknown_page_is_a_styled_404(client):
    response = await client.get("/no/such/page")
    html = await response.get_data(as_text=True)
    assert response.status_code == 404 and "<title>Not found · Helpdesk</title>" in html
    assert "text/html" in response.headers["Content-Type"]


async def test_unknown_ticket_is_a_404_page_and_an_alert_for_htmx(client):
    await sign_in(client, await make_agent())
    page = await client.get("/tickets/INC-999")
    partial = await client.get("/tickets/INC-999/thread", headers=HTMX)
    assert page.status_code == partial.status_code == 404
    assert "<html" in await page.get_data(as_text=True)
    assert (await partial.get_data(as_text=True)).startswith('<div class="alert" role="alert">')


async def test_api_errors_stay_json(client):
    response = await client.get("/api/no-such-thing")
    assert response.status_code in (401, 404)
    assert response.headers["Content-Type"] == "application/json"


async def test_unexpected_errors_are_a_500_page(app, client, monkeypatch):
    from helpdesk.services import queues

    async def broken(**_):
        raise RuntimeError("boom")

    await sign_in(client, await make_agent())
    monkeypatch.setattr(queues, "list_queues", broken)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    try:
        response = await client.get("/")
    finally:
        app.config["PROPAGATE_EXCEPTIONS"] = None
    html = await response.get_data(as_text=True)
    assert response.status_code == 500 and "Something went wrong" in html and "boom" not in html


async def test_favicon_is_served_and_linked(client):
    icon = await client.get("/favicon.ico")
    assert icon.status_code == 301 and icon.headers["Location"].endswith("/static/favicon.svg")
    svg = await client.get(icon.headers["Location"])
    assert svg.status_code == 200 and "image/svg+xml" in svg.headers["Content-Type"]
    login = await (await client.get("/login")).get_data(as_text=True)
    assert 'rel="icon" type="image/svg+xml" href="/static/favicon.svg' in login
