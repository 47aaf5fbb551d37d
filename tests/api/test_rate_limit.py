"""The API's per-token request limit: 429 with Retry-After, refilled over time, per token, and
counted in the database, so every app process enforces the one limit."""

from helpdesk.api.limits import RateLimiter


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_bucket_allows_a_minutes_worth_then_refills(app):
    clock = FakeClock()
    limiter = RateLimiter(per_minute=3, clock=clock)
    assert [await limiter.retry_after("a") for _ in range(3)] == [0, 0, 0]
    assert await limiter.retry_after("a") == 20
    assert await limiter.retry_after("a") == 20  # a refused request takes nothing
    assert await limiter.retry_after("b") == 0  # each token has its own bucket
    clock.now += 20
    assert await limiter.retry_after("a") == 0
    assert await limiter.retry_after("a") > 0


async def test_two_limiters_on_one_database_share_one_bucket(app):
    """Two app processes each have a limiter: together they allow the one limit."""
    clock = FakeClock()
    first, second = RateLimiter(per_minute=4, clock=clock), RateLimiter(per_minute=4, clock=clock)
    answers = [await (first if n % 2 else second).retry_after("one key for both") for n in range(8)]
    assert answers[:4] == [0, 0, 0, 0] and all(wait > 0 for wait in answers[4:])


async def test_a_clock_behind_refills_nothing(app):
    clock = FakeClock()
    limiter = RateLimiter(per_minute=2, clock=clock)
    assert [await limiter.retry_after("a") for _ in range(2)] == [0, 0]
    clock.now -= 30  # another process's clock, half a minute behind
    assert await limiter.retry_after("a") > 0


async def test_zero_turns_the_limit_off(app):
    limiter = RateLimiter(per_minute=0)
    assert all([await limiter.retry_after("a") == 0 for _ in range(100)])


async def test_api_answers_429_with_retry_after_in_the_error_shape(app, agent):
    limiter = app.extensions["api_limiter"]
    saved = limiter.per_minute
    limiter.per_minute = 2
    try:
        statuses = [(await agent.get("/api/users")).status_code for _ in range(2)]
        refused = await agent.get("/api/users")
    finally:
        limiter.per_minute = saved
    assert statuses == [200, 200]
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    assert (await refused.get_json())["title"] == "Too Many Requests"


async def test_openapi_declares_429_with_retry_after_on_every_operation(client):
    """The limit is checked before every API route but the public documents, which the OpenAPI
    document does not list."""
    spec = await (await client.get("/api/openapi.json")).get_json()
    operations = [op for methods in spec["paths"].values() for op in methods.values()]
    # the 20 of the contract, the live stream, attachments up and down, merge; groups created and
    # changed; 16 of administration
    assert len(operations) == 24 + 2 + 16
    for operation in operations:
        refused = operation["responses"]["429"]
        assert refused["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ErrorOut"}
        assert refused["headers"]["Retry-After"]["schema"] == {"type": "integer", "minimum": 1}


async def test_every_operation_answers_429_with_retry_after_once_the_token_is_over_its_limit(app, agent):
    spec = await (await agent.get("/api/openapi.json")).get_json()
    saved = app.extensions["api_limiter"]
    app.extensions["api_limiter"] = RateLimiter(per_minute=1, clock=FakeClock())  # time stands still
    try:
        assert (await agent.get("/api/users")).status_code == 200  # the minute's one request
        for path, methods in spec["paths"].items():
            url = path.replace("{ticket_id}", "INC-1").replace("{user_id}", "1").replace("{group_id}", "1")
            url = url.replace("{attachment_id}", "1").replace("{human_id}", "ORG-1")
            for name in ("state_id", "calendar_id", "policy_id"):
                url = url.replace("{" + name + "}", "1")
            for method in methods:
                refused = await getattr(agent.client, method)(url, headers=agent.headers())
                assert refused.status_code == 429, (method, path)
                assert int(refused.headers["Retry-After"]) == 60, (method, path)
                assert set(await refused.get_json()) == {"title", "message"}
    finally:
        app.extensions["api_limiter"] = saved
