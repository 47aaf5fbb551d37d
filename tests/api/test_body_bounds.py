"""Bodies nested too deep or holding too many keys are a 400 in the contract's shape, never a 500."""

import json

import pytest

from helpdesk.api.http import MAX_DEPTH, MAX_MEMBERS
from helpdesk.models import Ticket
from tests.api.conftest import TICKET
from tests.api.test_errors import assert_error

JSON = {"Content-Type": "application/json"}


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 100, 500, 999, 1000, 5000, 100_000])
async def test_a_whole_body_nested_deep_is_400(agent, depth):
    await assert_error(await agent.post("/api/tickets", data=nested(depth), headers=JSON), 400)


@pytest.mark.parametrize("depth", [100, 500, 100_000])
@pytest.mark.parametrize("field", ["description", "attributes", "version"])
async def test_a_field_nested_deep_is_400(agent, depth, field):
    raw = json.dumps(TICKET)[:-1] + f', "{field}": {nested(depth)}}}'
    body = await assert_error(await agent.post("/api/tickets", data=raw, headers=JSON), 400)
    if depth < 900:  # deeper, the parser itself stops before any field is known
        assert [name.split(".")[0] for name in body["errors"]] == [field]
    assert await Ticket.all().count() == 0


@pytest.mark.parametrize(
    ("method", "path"),
    [("patch", "/api/tickets/INC-1"), ("post", "/api/tickets/INC-1"), ("post", "/api/users")],
)
async def test_every_json_route_bounds_its_body(admin, method, path):
    response = await getattr(admin, method)(path, data=nested(500), headers=JSON)
    await assert_error(response, 400)


async def test_a_body_with_too_many_keys_is_400(agent):
    many = {f"k{n}": n for n in range(MAX_MEMBERS + 1)}
    await assert_error(await agent.post("/api/tickets", json=TICKET | many), 400, "body")


async def test_a_body_within_the_bounds_is_validated_as_usual(agent):
    deep_enough = json.loads(nested(MAX_DEPTH - 1))  # the body itself is the first level
    await assert_error(await agent.post("/api/tickets", json=TICKET | {"title": deep_enough}), 422, "title")
