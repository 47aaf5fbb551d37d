"""The API's wire format: JSON bodies read strictly, empty responses typed, errors in one shape."""

import json
from collections.abc import Callable
from functools import wraps
from typing import Any

from pydantic import BaseModel, ValidationError
from quart import Response, request
from quart_schema import document_request

from helpdesk.errors import BadRequest, Invalid

JSON = "application/json"
MAX_DEPTH = 32  # the API's deepest body is 3 levels; 500 levels made walking it a RecursionError
MAX_MEMBERS = 10_000  # keys and items in one body, every level counted


def empty(status: int, location: str | None = None) -> Response:
    """An empty response that still says `Content-Type: application/json` (DECISIONS 2)."""
    response = Response("", status=status, content_type=JSON)
    if location is not None:
        response.headers["Location"] = location
    return response


def idempotency_key() -> str | None:
    """The request's `Idempotency-Key` header, as sent (None without one): a retried create with it
    makes nothing new; the service refuses a malformed key (services/idempotency.py)."""
    return request.headers.get("Idempotency-Key")


def field_errors(error: ValidationError) -> dict[str, list[str]]:
    """Pydantic's errors as {"field.path": ["why", ...]}."""
    errors: dict[str, list[str]] = {}
    for item in error.errors():
        name = ".".join(str(part) for part in item["loc"]) or "body"
        errors.setdefault(name, []).append(item["msg"])
    return errors


def out_of_bounds(payload: Any) -> tuple[str, str] | None:
    """Where the body nests deeper than MAX_DEPTH or holds over MAX_MEMBERS keys and items, and
    why; None when it does neither. Walks with a list, not recursion, so any depth is safe."""
    pending, members = [(payload, "body", 0)], 0
    while pending:
        value, path, depth = pending.pop()
        if not isinstance(value, dict | list):
            continue
        if depth == MAX_DEPTH:
            return path, f"nested deeper than {MAX_DEPTH} levels"
        members += len(value)
        if members > MAX_MEMBERS:
            return path, f"more than {MAX_MEMBERS} keys and items in the body"
        items = value.items() if isinstance(value, dict) else enumerate(value)
        pending.extend((item, f"{path}.{key}", depth + 1) for key, item in items)
    return None


def unstorable(value: Any, path: str = "body") -> str | None:
    """The path of the first string no database can store (NUL, unpaired surrogate), or None."""
    if isinstance(value, str):
        return path if "\x00" in value or not _encodes(value) else None
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return None
    return next((bad for key, item in items if (bad := unstorable(item, f"{path}.{key}"))), None)


def _encodes(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


async def read_json() -> Any:
    """The request body as JSON; 400 for anything that is not UTF-8 JSON (413 comes from Quart)."""
    raw = await request.get_data(as_text=False)
    try:
        payload = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise BadRequest("The request body is not valid UTF-8.") from exc
    except json.JSONDecodeError as exc:
        raise BadRequest(f"The request body is not valid JSON: {exc.msg} at position {exc.pos}.") from exc
    except RecursionError as exc:  # the parser's own guard, some hundreds of levels down
        raise BadRequest(f"The request body is nested deeper than {MAX_DEPTH} levels.") from exc
    if bounds := out_of_bounds(payload):
        path, why = bounds
        raise BadRequest(
            f"The request body is too complex: {why}.", {path.removeprefix("body.") or "body": [why]}
        )
    if bad := unstorable(payload):
        name = bad.removeprefix("body.") or "body"
        raise Invalid(
            "Text may not contain NUL characters or unpaired surrogates.", {name: ["bad character"]}
        )
    return payload


def json_body(model: type[BaseModel]) -> Callable:
    """Validate the JSON body against `model` (422 with field errors) and pass it as `data`."""

    def decorator(handler: Callable) -> Callable:
        document_request(model)(handler)

        @wraps(handler)
        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            payload = await read_json()
            try:
                data = model.model_validate(payload)
            except ValidationError as exc:
                raise Invalid(
                    "This resource could not be updated due to invalid arguments being passed.",
                    field_errors(exc),
                ) from exc
            return await handler(*args, data=data, **kwargs)

        return wrapper

    return decorator


def query_args(model: type[BaseModel]) -> Any:
    """The query string validated against `model`; a bad value is a 400 (DECISIONS 3)."""
    if bad := unstorable(request.args.to_dict(), "query"):
        raise BadRequest(
            "A query parameter contains a NUL character.", {bad.removeprefix("query."): ["bad character"]}
        )
    try:
        return model.model_validate(request.args.to_dict())
    except ValidationError as exc:
        raise BadRequest("A query parameter has a bad value.", field_errors(exc)) from exc
