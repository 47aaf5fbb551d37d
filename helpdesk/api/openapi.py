"""The OpenAPI document lists only the JSON API, never the HTML routes."""

from collections.abc import Iterable

from quart_schema.openapi import OpenAPIProvider
from werkzeug.routing import Rule


class ApiOnlyProvider(OpenAPIProvider):
    def generate_rules(self) -> Iterable[Rule]:
        for rule in super().generate_rules():
            if rule.rule.startswith("/api/") and rule.endpoint.startswith("api."):
                yield rule
