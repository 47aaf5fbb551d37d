"""Signing in and out: server-side sessions, CSRF, the failure limits, idle sessions, deactivation."""

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from helpdesk import create_app, db
from helpdesk.models import User, WebSession
from helpdesk.services import attempts, passwords, users
from helpdesk.services.passwords import hash_password
from helpdesk.services.sessions import WRONG_LOGIN
from tests.factories import make_agent, make_user
from tests.services.test_passwords import HeldHashes
from tests.web.conftest import HTMX, PASSWORD, csrf_token, sign_in


async def post_login(client, email: str, password: str, token: str | None = ""):
    form = {"email": email, "password": password}
    if token is not None:
        form["csrf_token"] = token or await csrf_token(client)
    return await client.post("/login", form=form)


async def test_anonymous_pages_redirect_to_sign_in(client):
    response = await client.get("/queues/open?q=x")
    assert response.status_code == 303
    assert response.headers["Location"] == "/login?next=%2Fqueues%2Fopen%3Fq%3Dx"


async def test_anonymous_htmx_request_gets_401_with_hx_redirect(client):
    response = await client.get("/queues/open", headers=HTMX)
    assert response.status_code == 401
    assert response.headers["HX-Redirect"].startswith("/login?next=")


async def test_sign_in_stores_only_a_digest_and_sets_a_safe_cookie(client):
    agent = await make_agent()
    await sign_in(client, agent)
    record = await WebSession.get(user_id=agent.id)
    assert len(record.digest) == 64
    response = await client.get("/")
    assert response.status_code == 200
    assert agent.name in await response.get_data(as_text=True)


async def test_session_cookie_is_httponly_and_lax(client):
    response = await sign_in(client, await make_agent())
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


async def test_wrong_password_and_unknown_email_read_the_same(client):
    agent = await make_agent()
    await sign_in(client, agent)
    await client.post("/logout", form={"csrf_token": await csrf_token(client, "/")})
    wrong = await post_login(client, agent.email, "not the password")
    unknown = await post_login(client, "nobody@example.com", "not the password")
    assert wrong.status_code == unknown.status_code == 401
    assert WRONG_LOGIN in await wrong.get_data(as_text=True)
    assert WRONG_LOGIN in await unknown.get_data(as_text=True)
    assert not await WebSession.exists()


async def test_failed_sign_ins_are_limited_even_with_the_right_password_after(client):
    agent = await make_agent()
    await sign_in(client, agent)
    for _ in range(5):
        assert (await post_login(client, agent.email, "guess")).status_code == 401
    response = await post_login(client, agent.email, PASSWORD)
    assert response.status_code == 429
    assert "Too many failed sign-ins" in await response.get_data(as_text=True)


async def test_sign_in_without_csrf_is_rejected_and_writes_nothing(client):
    agent = await make_agent()
    await sign_in(client, agent)
    await WebSession.all().delete()
    response = await post_login(client, agent.email, PASSWORD, token=None)
    assert response.status_code == 400
    body = await response.get_data(as_text=True)
    assert 'name="csrf_token"' in body and 'name="password"' in body
    assert not await WebSession.exists()


async def test_sign_out_deletes_the_session_row(client):
    agent = await make_agent()
    await sign_in(client, agent)
    response = await client.post("/logout", form={"csrf_token": await csrf_token(client, "/")})
    assert response.status_code == 303
    assert not await WebSession.exists()
    assert (await client.get("/")).status_code == 303


async def test_sign_out_without_csrf_is_refused_and_keeps_the_session(client):
    agent = await make_agent()
    await sign_in(client, agent)
    response = await client.post("/logout", form={})
    assert response.status_code == 400
    assert await WebSession.exists()
    assert (await client.get("/")).status_code == 200


async def test_get_never_signs_out(client):
    agent = await make_agent()
    await sign_in(client, agent)
    assert (await client.get("/logout")).status_code == 405
    assert await WebSession.exists()


async def test_a_new_session_id_at_every_sign_in(client):
    agent = await make_agent()
    await sign_in(client, agent)
    first = {s.digest for s in await WebSession.all()}
    await sign_in(client, agent)
    second = {s.digest for s in await WebSession.all()}
    assert second - first


async def test_deactivated_users_are_signed_out(client):
    admin, agent = await make_user(admin=True), await make_agent()
    await sign_in(client, agent)
    await users.deactivate_user(user_id=agent.id, actor=admin)
    assert (await client.get("/")).status_code == 303
    assert (await post_login(client, agent.email, PASSWORD)).status_code == 401


async def test_next_only_goes_to_local_paths(client):
    agent = await make_agent()
    await sign_in(client, agent)
    token = await csrf_token(client)
    response = await client.post(
        "/login?next=//evil.example/x", form={"email": agent.email, "password": PASSWORD, "csrf_token": token}
    )
    assert response.headers["Location"] == "/"


async def test_health_answers_while_twenty_failed_sign_ins_hash(client, monkeypatch):
    """Hashing runs off the event loop: with 20 sign-ins in the middle of hashing (held there by
    the test), /healthz still answers; at most HASH_THREADS hashes run at once."""
    held_hashes = HeldHashes.install(monkeypatch)
    token = await csrf_token(client)
    posts = [
        asyncio.create_task(
            client.post(
                "/login",
                form={"email": f"u{n}@example.com", "password": "guess", "csrf_token": token},
                scope_base={"client": (f"10.2.0.{n}", 40000)},
            )
        )
        for n in range(20)
    ]
    await held_hashes.all_threads_busy()
    health = await client.get("/healthz")
    assert health.status_code == 200 and not held_hashes.gate.is_set() and not any(p.done() for p in posts)
    held_hashes.gate.set()
    assert [response.status_code for response in await asyncio.gather(*posts)] == [401] * 20
    assert held_hashes.most == passwords.HASH_THREADS


@pytest.fixture
async def second_app(app_config, database_url):
    """Another app instance on the same database, as a second server process would be."""
    other = create_app(app_config)
    async with other.test_app():
        yield other
    await db.open_database(database_url)  # its shutdown closed the process-wide ORM connections


async def post_from(client, address: str, email: str, password: str):
    token = await csrf_token(client)
    form = {"email": email, "password": password, "csrf_token": token}
    return await client.post("/login", form=form, scope_base={"client": (address, 40000)})


async def test_failures_from_one_address_count_across_app_instances(app, second_app):
    agent = await make_agent()
    await User.filter(id=agent.id).update(password_hash=hash_password(PASSWORD))
    first, second = app.test_client(), second_app.test_client()
    for n in range(10):
        assert (await post_from(first, "10.3.0.1", f"a{n}@example.com", "guess")).status_code == 401
        assert (await post_from(second, "10.3.0.1", f"b{n}@example.com", "guess")).status_code == 401
    refused = await post_from(first, "10.3.0.1", agent.email, PASSWORD)
    assert refused.status_code == 429 and "Too many failed sign-ins" in await refused.get_data(as_text=True)
    assert (await post_from(second, "10.3.0.2", agent.email, PASSWORD)).status_code == 303


async def test_an_idle_session_sends_the_browser_to_sign_in(client, monkeypatch):
    moment = [datetime.now(UTC)]
    monkeypatch.setattr(attempts, "now", lambda: moment[0])
    await sign_in(client, await make_agent())
    moment[0] += timedelta(hours=7)
    assert (await client.get("/")).status_code == 200
    moment[0] += timedelta(hours=8, minutes=1)
    response = await client.get("/")
    assert response.status_code == 303 and response.headers["Location"].startswith("/login")
