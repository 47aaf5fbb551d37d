"""Where sign-in sends the browser: only to a path of this site (issue 12, finding 1)."""

import pytest

from tests.factories import make_agent
from tests.web.conftest import PASSWORD, csrf_token, sign_in

OFF_SITE = [
    "//evil.example/x",
    "/\\evil.example/x",
    "/%09/evil.example/",
    "/%0a/evil.example/",
    "/%0d%0a/evil.example/",
    "/%0a",
    "/%5c%5cevil.example/",
    "/%e2%80%a8/evil.example/",
    "https://evil.example/",
    "https:/evil.example/",
    "evil.example",
    "javascript:alert(1)",
    "",
]
ON_SITE = [
    ("/queues/open?q=x", "/queues/open?q=x"),
    ("/tickets/42", "/tickets/42"),
    ("/%252F%252Fevil.example", "/%2F%2Fevil.example"),
    ("/queues/open?q=caf%C3%A9", "/queues/open?q=caf%C3%A9"),
]


async def sign_in_with_next(client, raw_next: str):
    agent = await make_agent()
    await sign_in(client, agent)
    token = await csrf_token(client)
    form = {"email": agent.email, "password": PASSWORD, "csrf_token": token}
    return await client.post(f"/login?next={raw_next}", form=form)


@pytest.mark.parametrize("raw_next", OFF_SITE)
async def test_next_off_this_site_goes_home(client, raw_next):
    response = await sign_in_with_next(client, raw_next)
    assert response.status_code == 303
    assert response.headers["Location"] == "/"


@pytest.mark.parametrize(("raw_next", "location"), ON_SITE)
async def test_next_on_this_site_is_kept(client, raw_next, location):
    response = await sign_in_with_next(client, raw_next)
    assert response.status_code == 303
    assert response.headers["Location"] == location
