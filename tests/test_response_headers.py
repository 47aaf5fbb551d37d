"""Every route family carries the security headers, and nothing signed-in is kept in a cache
(issue 12, finding 10)."""

import pytest

from helpdesk import create_app
from helpdesk.response_headers import CONTENT_SECURITY_POLICY
from helpdesk.services.users import create_token
from tests.factories import make_agent
from tests.web.conftest import HTMX, sign_in

# family -> (path, how the client is signed in, extra request headers)
FAMILIES = {
    "api": ("/api/tickets", "token", {}),
    "api error": ("/api/no-such-route", "token", {}),
    "api unauthenticated": ("/api/tickets", None, {}),
    "api public": ("/api/openapi.json", None, {}),
    "api docs page": ("/api/docs", None, {}),
    "html page": ("/queues/open", "session", {}),
    "partial": ("/queues/open", "session", HTMX),
    "form page": ("/tickets/new", "session", {}),
    "sign-in page": ("/login", None, {}),
    "redirect to sign-in": ("/queues/open", None, {}),
    "html error page": ("/no-such-page", "session", {}),
    "html error partial": ("/tickets/INC-999999", "session", HTMX),
    "confirm": ("/confirm/not-a-token", None, {}),
    "static": ("/static/app.css", None, {}),
    "health": ("/healthz", None, {}),
}


async def fetch(client, family: str):
    path, auth, headers = FAMILIES[family]
    agent = await make_agent()
    if auth == "token":
        headers = headers | {
            "Authorization": f"Bearer {await create_token(user=agent, name='t', actor=None)}"
        }
    elif auth == "session":
        await sign_in(client, agent)
    return await client.get(path, headers=headers)


@pytest.mark.parametrize("family", FAMILIES)
async def test_every_route_family_carries_the_security_headers(client, family):
    response = await fetch(client, family)
    headers = response.headers
    assert headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert (
        "unsafe-inline" not in CONTENT_SECURITY_POLICY and "frame-ancestors 'none'" in CONTENT_SECURITY_POLICY
    )
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == ("no-referrer" if family == "confirm" else "same-origin")
    assert "Strict-Transport-Security" not in headers, "BASE_URL is http here"
    if family != "static":
        assert headers["Cache-Control"] == "no-store"
    if not FAMILIES[family][0].startswith(("/api/", "/static/", "/healthz")):
        assert "cookie" in headers.get("Vary", "").lower()


async def test_the_queue_menu_counts_stay_a_private_five_second_cache(client):
    await sign_in(client, await make_agent())
    response = await client.get("/queues/open/counts", headers=HTMX)
    assert response.headers["Cache-Control"] == "private, max-age=5"
    assert "cookie" in response.headers["Vary"].lower()


@pytest.mark.parametrize(("base_url", "expected"), [("https://help.example.com", True), ("http://x", False)])
async def test_hsts_only_when_the_site_is_https(app_config, base_url, expected):
    client = create_app(app_config | {"BASE_URL": base_url}).test_client()
    for path in ("/healthz", "/static/app.css"):
        response = await client.get(path)
        assert ("Strict-Transport-Security" in response.headers) is expected
        if expected:
            assert response.headers["Strict-Transport-Security"] == "max-age=31536000"
