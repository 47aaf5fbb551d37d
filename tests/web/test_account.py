"""The Account screen, forgotten passwords, emailed links and invitations, through the pages."""

import re

from helpdesk.models import OutboxEmail, User, WebSession
from tests.factories import make_admin, make_agent, make_user
from tests.web.conftest import PASSWORD, csrf_from, csrf_token, sign_in

NEW = "a brand new passphrase"  # noqa: S105 - test password
LINK = re.compile(r"http://testserver\.local(/\S+)")


async def emailed_path(recipient: str) -> str:
    """The path of the newest link emailed to the recipient."""
    email = await OutboxEmail.filter(recipient=recipient).order_by("-id").first()
    return LINK.search(email.body_text).group(1)


async def text(response) -> str:
    return await response.get_data(as_text=True)


async def post_form(client, path: str, **form):
    """Post a form with the CSRF token of the page at `path` (GET first, like a browser)."""
    page = await client.get(path)
    return await client.post(path, form={"csrf_token": csrf_from(await text(page)), **form})


async def test_sign_in_page_offers_a_reset_and_the_answer_never_tells_who_has_an_account(client):
    agent = await make_agent()
    assert 'href="/password/forgot"' in await text(await client.get("/login"))
    known = await post_form(client, "/password/forgot", email=agent.email)
    unknown = await post_form(client, "/password/forgot", email="nobody@example.com")
    assert known.status_code == unknown.status_code == 200
    assert (await text(known)).replace(agent.email, "") == (await text(unknown)).replace(
        "nobody@example.com", ""
    )
    assert await OutboxEmail.all().count() == 1


async def test_a_reset_link_sets_the_password_once(client):
    agent = await make_agent()
    await sign_in(client, agent)
    other = client.app.test_client()
    await post_form(other, "/password/forgot", email=agent.email)
    path = await emailed_path(agent.email)
    page = await other.get(path)
    assert page.status_code == 200 and page.headers["Referrer-Policy"] == "no-referrer"
    assert page.headers["Cache-Control"] == "no-store"
    short = await post_form(other, path, password="short", repeat="short")
    assert short.status_code == 422 and "at least 12 characters" in await text(short)
    mismatch = await post_form(other, path, password=NEW, repeat=NEW + "x")
    assert mismatch.status_code == 422 and "does not match" in await text(mismatch)
    done = await post_form(other, path, password=NEW, repeat=NEW)
    assert done.status_code == 200 and "Your password is set" in await text(done)
    assert (await client.get("/")).status_code == 303  # the session open before the reset ended
    again = await other.get(path)
    assert again.status_code == 410 and "already been used" in await text(again)
    await sign_in(client, agent, NEW)


async def test_an_altered_link_is_a_clear_page_not_an_error(client):
    response = await client.get("/password/reset/not-a-token")
    assert response.status_code == 400 and "altered" in await text(response)


async def test_changing_the_password_on_the_account_page(client):
    agent = await make_agent()
    await sign_in(client, agent)
    elsewhere = client.app.test_client()
    await sign_in(elsewhere, agent)
    page = await client.get("/account")
    token = csrf_from(await text(page))
    wrong = await client.post(
        "/account/password",
        form={"csrf_token": token, "current_password": "not the one!", "new_password": NEW, "repeat": NEW},
    )
    assert wrong.status_code == 422 and "is not right" in await text(wrong)
    # Like every form: the refusal above the form, and beside the field it names.
    assert 'role="alert">The current password is not right.' in await text(wrong)
    changed = await client.post(
        "/account/password",
        form={"csrf_token": token, "current_password": PASSWORD, "new_password": NEW, "repeat": NEW},
    )
    assert changed.status_code == 303
    assert "other session of your account has ended" in await text(
        await client.get(changed.headers["Location"])
    )
    assert (await elsewhere.get("/")).status_code == 303
    assert await WebSession.filter(user_id=agent.id).count() == 1


async def test_the_account_page_lists_sessions_and_signs_out_others(client):
    agent = await make_agent()
    await sign_in(client, agent)
    elsewhere = client.app.test_client()
    await sign_in(elsewhere, agent)
    page = await text(await client.get("/account"))
    assert page.count('name="session"') == 2 and "(this browser)" in page
    token = csrf_from(page)
    assert (await client.post("/account/sessions/end-others", form={"csrf_token": token})).status_code == 303
    assert (await elsewhere.get("/")).status_code == 303
    assert (await client.get("/")).status_code == 200
    mine = re.search(
        r'name="session" value="([0-9a-f]{64})"', await text(await client.get("/account"))
    ).group(1)
    assert (
        await client.post("/account/sessions/end", form={"csrf_token": token, "session": mine})
    ).status_code == 303
    assert (await client.get("/")).status_code == 303


async def test_ending_a_session_needs_the_csrf_token(client):
    agent = await make_agent()
    await sign_in(client, agent)
    digest = (await WebSession.get(user_id=agent.id)).digest
    assert (await client.post("/account/sessions/end", form={"session": digest})).status_code == 400
    assert await WebSession.exists(digest=digest)


async def test_an_email_change_answers_the_same_and_applies_from_the_link(client):
    await make_user(email="taken@example.com")
    agent = await make_agent(email="priya@example.com")
    await sign_in(client, agent)
    token = csrf_from(await text(await client.get("/account")))
    taken = await client.post("/account/email", form={"csrf_token": token, "email": "taken@example.com"})
    free = await client.post("/account/email", form={"csrf_token": token, "email": "new@example.com"})
    assert taken.status_code == free.status_code == 200
    assert "already exists" not in await text(taken)
    assert "a link to confirm it is on its way" in await text(taken) and "on its way" in await text(free)
    assert (await User.get(id=agent.id)).email == "priya@example.com"
    path = await emailed_path("new@example.com")
    confirm = await client.get(path)
    assert "new@example.com" in await text(confirm)
    done = await client.post(path, form={"csrf_token": csrf_from(await text(confirm))})
    assert done.status_code == 200 and (await User.get(id=agent.id)).email == "new@example.com"
    assert (await client.post(path, form={"csrf_token": token})).status_code == 410


async def test_a_new_user_is_invited_and_chooses_a_password(client):
    await sign_in(client, await make_admin())
    form = {"name": "Nia", "email": "nia@example.com", "agent": "y"}
    assert (await post_form(client, "/admin/users", **form)).status_code == 303
    assert 'name="password"' not in await text(await client.get("/admin/users"))
    invited = client.app.test_client()
    path = await emailed_path("nia@example.com")
    assert path.startswith("/password/invitation/")
    assert "Choose your password" in await text(await invited.get(path))
    assert (await post_form(invited, path, password=NEW, repeat=NEW)).status_code == 200
    nia = await User.get(email="nia@example.com")
    await invited.post(
        "/login", form={"email": nia.email, "password": NEW, "csrf_token": await csrf_token(invited)}
    )
    assert (await invited.get("/")).status_code == 200


async def test_an_admin_can_send_a_new_password_link(client):
    await sign_in(client, await make_admin())
    agent = await make_agent()
    response = await post_form(client, f"/admin/users/{agent.id}", name=agent.name, email=agent.email)
    assert response.status_code == 303
    token = csrf_from(await text(await client.get(f"/admin/users/{agent.id}")))
    sent = await client.post(f"/admin/users/{agent.id}/invitation", form={"csrf_token": token})
    assert sent.status_code == 303
    assert "on its way" in await text(await client.get(sent.headers["Location"]))
    assert (await emailed_path(agent.email)).startswith("/password/invitation/")
