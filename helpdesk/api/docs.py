"""A readable API reference at /api/docs, rendered on the server from the OpenAPI document."""

from typing import Any

from quart import Response, current_app, render_template
from quart_schema import hide

from helpdesk.api.blueprint import api
from helpdesk.config import PROJECT_ROOT

METHOD_ORDER = ("get", "post", "patch", "put", "delete")
# The contract the repository carries, served as it is written.
CONTRACT = {
    "tickets.apib": (PROJECT_ROOT / "docs" / "api" / "tickets.apib", "text/plain; charset=utf-8"),
    "api.md": (PROJECT_ROOT / "docs" / "api.md", "text/markdown; charset=utf-8"),
}


def _resolve(schema: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    """Follow a `$ref` into components/schemas (one level is all the docs page needs)."""
    ref = schema.get("$ref", "")
    return components.get(ref.rsplit("/", 1)[-1], schema) if ref else schema


def _fields(schema: dict[str, Any], components: dict[str, Any]) -> list[dict[str, Any]]:
    """The documented properties of a body or response schema, for a table."""
    schema = _resolve(schema, components)
    required = set(schema.get("required", []))
    return [
        {"name": name, "type": _type(spec, components), "required": name in required}
        for name, spec in schema.get("properties", {}).items()
    ]


def _type(spec: dict[str, Any], components: dict[str, Any]) -> str:
    if "$ref" in spec:
        return spec["$ref"].rsplit("/", 1)[-1]
    if options := spec.get("anyOf"):
        return " or ".join(_type(option, components) for option in options)
    if spec.get("type") == "array":
        return f"array of {_type(spec.get('items', {}), components)}"
    if "enum" in spec:
        return " | ".join(str(value) for value in spec["enum"])
    return str(spec.get("format") or spec.get("type", "any"))


def _operations(document: dict[str, Any]) -> list[dict[str, Any]]:
    components = document.get("components", {}).get("schemas", {})
    operations = []
    for path, methods in document["paths"].items():
        for method in sorted(methods, key=METHOD_ORDER.index):
            spec = methods[method]
            body = spec.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
            operations.append({
                "method": method.upper(), "path": path, "summary": spec.get("summary", ""),
                "parameters": spec.get("parameters", []),
                "body": _fields(body, components) if body else [],
                "responses": sorted(spec.get("responses", {}), key=str),
            })  # fmt: skip
    return operations


@api.get("/docs")
@hide
async def docs() -> str:
    """The API reference page (public, like /api/openapi.json)."""
    document = current_app.extensions["QUART_SCHEMA"].openapi_provider.schema()
    return await render_template("api/docs.html", operations=_operations(document), info=document["info"])


@api.get("/docs/<any('tickets.apib', 'api.md'):name>")
@hide
async def contract(name: str) -> Response:
    """The API Blueprint or the API notes, as the repository holds them (public)."""
    path, media_type = CONTRACT[name]
    return Response(path.read_bytes(), content_type=media_type)
