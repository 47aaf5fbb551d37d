"""The OpenAPI document: only the JSON API (never the HTML routes), with every status it answers."""

from collections.abc import Callable, Iterable
from typing import Any

from pydantic import BaseModel
from quart_schema import document_response
from quart_schema.openapi import OpenAPIProvider
from werkzeug.routing import Rule

from helpdesk.api.schemas import ErrorOut

EMPTY_ATTRIBUTE = "_helpdesk_empty_responses"
ERROR_STATUSES = (400, 401, 403, 404, 409, 413, 422, 429)


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


def _plain_response(location: bool, media_type: str | None) -> dict[str, Any]:
    if media_type:
        return {"description": media_type, "content": {media_type: {"schema": {"type": "string"}}}}
    response: dict[str, Any] = {"description": "Empty body, `Content-Type: application/json`."}
    if location:
        response["headers"] = {"Location": {"schema": {"type": "string"}, "description": "the new id"}}
    return response


class ApiOnlyProvider(OpenAPIProvider):
    def generate_rules(self) -> Iterable[Rule]:
        for rule in super().generate_rules():
            if rule.rule.startswith("/api/") and rule.endpoint.startswith("api."):
                yield rule

    def build_paths(self, rule: Rule) -> tuple[dict, dict]:
        paths, components = super().build_paths(rule)
        handler = self._app.view_functions[rule.endpoint]
        error, error_components = self.build_response_object(ErrorOut, None)
        components.update(error_components)
        for operations in paths.values():
            for operation in operations.values():
                if "requestBody" in operation:
                    operation["requestBody"]["required"] = True
                responses = dict(operation["responses"])
                for status, (location, media_type) in getattr(handler, EMPTY_ATTRIBUTE, {}).items():
                    responses[status] = _plain_response(location, media_type)
                for status in ERROR_STATUSES:
                    responses.setdefault(status, error)
                operation["responses"] = responses
        return paths, components
