"""`Idempotency-Key` on every POST that creates: a retry with the same key makes one row and gets
the first answer again, even when retries race; a key is one request's, never another's."""

import asyncio

import pytest

from helpdesk.models import Comment, Event, IdempotencyKey, User
from tests.api.conftest import TICKET

KEY = {"Idempotency-Key": "retry-7"}
USER = {"email": "new@example.com", "name": "New Person"}


async def ticket_of(api) -> str:
    return (await api.post("/api/tickets", json=TICKET)).headers["Location"]


async def post_twice(api, path, body=None, headers=KEY):
    return [await api.post(path, json=body, headers=headers) for _ in range(2)]


async def test_a_retried_comment_makes_one_comment_and_the_same_answer(agent):
    ticket = await ticket_of(agent)
    first, second = await post_twice(agent, f"/api/tickets/{ticket}", {"description": "On my way"})
    assert (first.status_code, second.status_code) == (201, 201)
    assert first.headers["Location"] == second.headers["Location"]
    assert await Comment.all().count() == 1


async def test_racing_comment_retries_make_one_comment(agent):
    ticket = await ticket_of(agent)
    body = {"description": "On my way"}
    responses = await asyncio.gather(
        *(agent.post(f"/api/tickets/{ticket}", json=body, headers=KEY) for _ in range(5))
    )
    assert {response.status_code for response in responses} == {201}
    assert len({response.headers["Location"] for response in responses}) == 1
    assert await Comment.all().count() == 1


async def test_a_retried_confirm_contacts_makes_one_event_and_the_same_answer(agent):
    ticket = await ticket_of(agent)
    first, second = await post_twice(agent, f"/api/events/confirm-contacts/{ticket}")
    assert (first.status_code, second.status_code) == (201, 201)  # without the key the retry is a 409
    assert await Event.filter(key="notification.ticket.confirm-contacts").count() == 1


async def test_a_retried_user_create_makes_one_user_and_the_same_answer(admin):
    first, second = await post_twice(admin, "/api/users", USER)
    assert (first.status_code, second.status_code) == (201, 201)  # without the key the retry is a 409
    assert first.headers["Location"] == second.headers["Location"]
    assert await User.filter(email=USER["email"]).count() == 1


async def test_without_a_key_every_post_creates(agent):
    ticket = await ticket_of(agent)
    await post_twice(agent, f"/api/tickets/{ticket}", {"description": "Again"}, headers={})
    assert await Comment.all().count() == 2


@pytest.mark.parametrize("second", ["another ticket", "a ticket"])
async def test_a_key_sent_again_for_another_request_is_409(agent, second):
    ticket = await ticket_of(agent)
    await agent.post(f"/api/tickets/{ticket}", json={"description": "Hi"}, headers=KEY)
    if second == "a ticket":
        response = await agent.post("/api/tickets", json=TICKET, headers=KEY)
    else:
        response = await agent.post(
            f"/api/tickets/{await ticket_of(agent)}", json={"description": "Hi"}, headers=KEY
        )
    assert response.status_code == 409
    assert set(await response.get_json()) == {"title", "message"}
    assert await Comment.all().count() == 1


async def test_each_user_has_keys_of_their_own(agent, admin):
    ticket = await ticket_of(agent)
    await agent.post(f"/api/tickets/{ticket}", json={"description": "Hi"}, headers=KEY)
    await admin.post(f"/api/tickets/{ticket}", json={"description": "Hi"}, headers=KEY)
    assert await Comment.all().count() == 2
    assert await IdempotencyKey.filter(scope="comment").count() == 2


BAD_KEYS = {
    "too long": "k" * 256,
    "empty": "",
    "blank": "   ",
    "a control character": "retry\x017",
    "a tab": "retry\t7",
    "DEL": "retry\x7f",
    "a character outside ASCII": "clé-7",
}


async def creating_posts(api) -> dict[str, tuple[str, dict | None]]:
    """Each POST that creates, with a body it accepts."""
    ticket = await ticket_of(api)
    return {
        "ticket": ("/api/tickets", TICKET),
        "comment": (f"/api/tickets/{ticket}", {"description": "Hi"}),
        "event": (f"/api/events/confirm-contacts/{ticket}", None),
        "user": ("/api/users", USER),
    }


@pytest.mark.parametrize("what", ["ticket", "comment", "event", "user"])
@pytest.mark.parametrize("bad", sorted(BAD_KEYS))
async def test_a_malformed_key_is_400_naming_the_header_and_creates_nothing(admin, what, bad):
    path, body = (await creating_posts(admin))[what]
    before = [await model.all().count() for model in (Comment, Event, User, IdempotencyKey)]
    response = await admin.post(path, json=body, headers={"Idempotency-Key": BAD_KEYS[bad]})
    assert response.status_code == 400, await response.get_data()
    error = await response.get_json()
    assert set(error) >= {"title", "message"} and "Idempotency-Key" in error["message"]
    assert error["errors"] == {"Idempotency-Key": [error["errors"]["Idempotency-Key"][0]]}
    assert [await model.all().count() for model in (Comment, Event, User, IdempotencyKey)] == before
    assert len((await (await admin.get("/api/tickets")).get_json())["data"]) == 1  # creating_posts' own


async def test_a_key_of_255_characters_is_kept_whole(agent):
    ticket = await ticket_of(agent)
    long_key = "k" * 254
    for last in "ab":
        headers = {"Idempotency-Key": long_key + last}
        response = await agent.post(f"/api/tickets/{ticket}", json={"description": "Hi"}, headers=headers)
        assert response.status_code == 201
    assert await Comment.all().count() == 2
    assert sorted(k.key[-1] for k in await IdempotencyKey.all()) == ["a", "b"]


async def test_openapi_declares_the_optional_header_on_every_post_that_creates(client):
    spec = await (await client.get("/api/openapi.json")).get_json()
    declared = {
        (method.upper(), path)
        for path, operations in spec["paths"].items()
        for method, operation in operations.items()
        if any(p["name"] == "Idempotency-Key" for p in operation.get("parameters", []))
    }
    assert declared == {
        ("POST", "/api/tickets"),
        ("POST", "/api/tickets/{ticket_id}"),
        ("POST", "/api/events/confirm-contacts/{ticket_id}"),
        ("POST", "/api/users"),
    }
    [header] = [
        p for p in spec["paths"]["/api/tickets"]["post"]["parameters"] if p["name"] == "Idempotency-Key"
    ]
    assert (header["in"], header["required"]) == ("header", False)
    assert (header["schema"]["minLength"], header["schema"]["maxLength"]) == (1, 255)
