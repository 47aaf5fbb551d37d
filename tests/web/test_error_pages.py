"""Error pages: HTML in the site's style outside /api, the API keeps its JSON."""

from tests.factories import make_agent, make_customer
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


FRAMEWORK_TEXT = (
    "read-protected",
    "If you entered the URL manually",
    "method is not allowed for the requested URL",
)


def product_page(html: str) -> bool:
    """The site's layout with its own words, and a way back; none of the framework's stock text."""
    return (
        '<header class="site-header">' in html
        and 'href="/">Back to' in html
        and not any(text in html for text in FRAMEWORK_TEXT)
    )


async def test_a_customer_opening_a_staff_page_gets_the_products_403_page(client):
    """The admin screens answered with the framework's raw 403 text."""
    await sign_in(client, await make_customer())
    for path in ("/admin/users", "/admin/groups"):
        response = await client.get(path)
        html = await response.get_data(as_text=True)
        assert response.status_code == 403, path
        assert "<title>Not allowed · Helpdesk</title>" in html and product_page(html), path
    assert "Only admins" in await (await client.get("/admin/users")).get_data(as_text=True)


async def test_404_and_405_pages_speak_the_products_words(client):
    await sign_in(client, await make_agent())
    missing = await client.get("/no/such/page")
    wrong_method = await client.post("/account")
    assert (missing.status_code, wrong_method.status_code) == (404, 405)
    for response in (missing, wrong_method):
        assert product_page(await response.get_data(as_text=True))
