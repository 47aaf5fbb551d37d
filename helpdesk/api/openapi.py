"""The OpenAPI document: only the JSON API (never the HTML routes), with every status it answers.

Shaped for client generators: every named model is one entry of `components/schemas`, referenced
wherever it is used; operations are named after their handler and tagged by resource."""

from collections.abc import Callable, Iterable
from typing import Any
from weakref import proxy

from pydantic import BaseModel
from quart import Quart
from quart_schema import QuartSchema, document_response
from quart_schema.openapi import OpenAPIProvider
from werkzeug.routing import Rule

from helpdesk.api.schemas import ErrorOut
from helpdesk.services import idempotency

EMPTY_ATTRIBUTE = "_helpdesk_empty_responses"
IDEMPOTENT_ATTRIBUTE = "_helpdesk_takes_idempotency_key"
ERROR_STATUSES = (400, 401, 403, 404, 409, 413, 422, 429, 503)
# Too many requests, and the database briefly unavailable (every operation may meet that): both
# say when to try again.
RETRY_AFTER = {
    "Retry-After": {
        "description": "seconds to wait before trying again",
        "required": True,
        "schema": {"type": "integer", "minimum": 1},
    }
}
RETRY_STATUSES = {429, 503}
JSON = "application/json"
IDEMPOTENCY_KEY = {
    "name": idempotency.HEADER,
    "in": "header",
    "required": False,
    "description": f"Makes a retry safe: the same key again creates nothing and answers as the first "
    f"call did. 1 to {idempotency.MAX_LENGTH} printable ASCII characters; anything else is 400.",
    "schema": {
        "type": "string", "minLength": 1, "maxLength": idempotency.MAX_LENGTH, "pattern": idempotency.PATTERN,
    },
}  # fmt: skip
ERROR_REF = {"$ref": f"#/components/schemas/{ErrorOut.__name__}"}
# Each API module is one resource, and one tag of the document.
TAGS = {
    "helpdesk.api.tickets": "Tickets",
    "helpdesk.api.users": "Users",
    "helpdesk.api.events": "Events",
    "helpdesk.api.reporting": "Reporting",
    "helpdesk.api.catalog": "Catalogue",
    "helpdesk.api.stream": "Stream",
    "helpdesk.api.attachments": "Attachments",
    "helpdesk.api.organisations": "Organisations",
    "helpdesk.api.service_levels": "Service levels",
}


def documents(
    status: int,
    model: type[BaseModel] | None = None,
    *,
    location: bool = False,
    media_type: str | None = None,
) -> Callable:
    """Record a response of the handler for the OpenAPI document (no model: empty, or a `media_type` body)."""

    def decorator(handler: Callable) -> Callable:
        if model is not None:
            return document_response(model, status)(handler)
        getattr(handler, EMPTY_ATTRIBUTE, None) or setattr(handler, EMPTY_ATTRIBUTE, {})
        getattr(handler, EMPTY_ATTRIBUTE)[status] = (location, media_type)
        return handler

    return decorator


def takes_idempotency_key(handler: Callable) -> Callable:
    """Declare the optional `Idempotency-Key` request header of a POST that creates."""
    setattr(handler, IDEMPOTENT_ATTRIBUTE, True)
    return handler


def _plain_response(location: bool, media_type: str | None) -> dict[str, Any]:
    if media_type:
        return {"description": media_type, "content": {media_type: {"schema": {"type": "string"}}}}
    response: dict[str, Any] = {"description": "Empty body, `Content-Type: application/json`."}
    if location:
        response["headers"] = {"Location": {"schema": {"type": "string"}, "description": "the new id"}}
    return response


def _error_response(status: int) -> dict[str, Any]:
    response = {"description": f"{status}, in the error shape", "content": {JSON: {"schema": ERROR_REF}}}
    return response | ({"headers": RETRY_AFTER} if status in RETRY_STATUSES else {})


def _referenced(body: dict[str, Any], components: dict[str, Any]) -> None:
    """Move a body's inline model schema into `components` and point at it by name."""
    for media in body.get("content", {}).values():
        schema = media.get("schema", {})
        if schema.get("type") == "object" and "title" in schema:
            components[schema["title"]] = schema
            media["schema"] = {"$ref": f"#/components/schemas/{schema['title']}"}


class ApiOnlyProvider(OpenAPIProvider):
    def __init__(self, app: Quart, extension: QuartSchema) -> None:
        super().__init__(app, extension)
        self.app = proxy(app)  # ours: the provider's own reference is private

    def generate_rules(self) -> Iterable[Rule]:
        """The API's routes, once each: `/api/states/` is the same operation as `/api/states`, which
        is the one documented (its OPTIONS lists POST beside GET: both must be in the document)."""
        chosen: dict[str, Rule] = {}
        for rule in super().generate_rules():
            if rule.rule.startswith("/api/") and rule.endpoint.startswith("api."):
                kept = chosen.get(rule.endpoint)
                if kept is None or (kept.rule.endswith("/") and not rule.rule.endswith("/")):
                    chosen[rule.endpoint] = rule
        yield from chosen.values()

    def operation_id(self, method: str, path: str, func: Callable) -> str:
        """The handler's name (`create_ticket`): generated clients call it by that name."""
        return func.__name__

    def build_paths(self, rule: Rule) -> tuple[dict, dict]:
        paths, components = super().build_paths(rule)
        handler = self.app.view_functions[rule.endpoint]
        error, error_components = self.build_response_object(ErrorOut, None)
        components.update(error_components)
        _referenced(error, components)
        for operations in paths.values():
            for operation in operations.values():
                operation["tags"] = [TAGS[handler.__module__]]
                if getattr(handler, IDEMPOTENT_ATTRIBUTE, False):
                    operation.setdefault("parameters", []).append(IDEMPOTENCY_KEY)
                if "requestBody" in operation:
                    operation["requestBody"]["required"] = True
                    _referenced(operation["requestBody"], components)
                responses = dict(operation["responses"])
                for response in responses.values():
                    _referenced(response, components)
                for status, (location, media_type) in getattr(handler, EMPTY_ATTRIBUTE, {}).items():
                    responses[status] = _plain_response(location, media_type)
                for status in ERROR_STATUSES:
                    responses.setdefault(status, _error_response(status))
                operation["responses"] = responses
        return paths, components
