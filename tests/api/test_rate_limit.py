"""The API's per-token request limit: 429 with Retry-After, refilled over time, per token."""

from helpdesk.api.limits import RateLimiter


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_bucket_allows_a_minutes_worth_then_refills():
    clock = FakeClock()
    limiter = RateLimiter(per_minute=3, clock=clock)
    assert [limiter.retry_after("a") for _ in range(3)] == [0, 0, 0]
    assert limiter.retry_after("a") == 20
    assert limiter.retry_after("b") == 0  # each token has its own bucket
    clock.now += 20
    assert limiter.retry_after("a") == 0
    assert limiter.retry_after("a") > 0


def test_zero_turns_the_limit_off():
    limiter = RateLimiter(per_minute=0)
    assert all(limiter.retry_after("a") == 0 for _ in range(1000))


async def test_api_answers_429_with_retry_after_in_the_error_shape(app, agent):
    limiter = app.extensions["api_limiter"]
    saved = limiter.per_minute, dict(limiter._buckets)
    limiter.per_minute, limiter._buckets = 2, {}
    try:
        statuses = [(await agent.get("/api/users")).status_code for _ in range(2)]
        refused = await agent.get("/api/users")
    finally:
        limiter.per_minute, limiter._buckets = saved
    assert statuses == [200, 200]
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    assert (await refused.get_json())["title"] == "Too Many Requests"
