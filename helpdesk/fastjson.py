"""JSON for every response, encoded by orjson: a page of a hundred tickets spent more time in the
standard library's encoder than in the database."""

from typing import Any
from weakref import proxy

import orjson
from flask.json.provider import DefaultJSONProvider
from pydantic_core import to_jsonable_python
from quart import Quart

OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME


def _default(value: Any) -> Any:
    """Dates as RFC 822 (Quart's way), anything pydantic knows (models, for the OpenAPI document)."""
    try:
        return DefaultJSONProvider.default(value)
    except TypeError:
        return to_jsonable_python(value)


def _one_value(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """What `jsonify(...)` encodes: its one argument, several as a list, or keywords as an object."""
    if args and kwargs:
        raise TypeError("app.json.response() takes either args or kwargs, not both")
    if len(args) == 1:
        return args[0]
    return args or kwargs or None


class OrjsonProvider(DefaultJSONProvider):
    """Quart's JSON provider with orjson underneath; keys stay in the order the code builds them.

    Datetimes and the types orjson does not know go through `_default`, as with QuartSchema's
    provider it replaces, so a value the API forgot to format looks the same as before."""

    def __init__(self, app: Quart) -> None:
        super().__init__(app)
        self.app = proxy(app)  # ours: the provider's own reference is private

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        if kwargs:  # indent, sort_keys...: rare (debug output), leave them to the standard library
            return super().dumps(obj, **kwargs)
        return orjson.dumps(obj, default=_default, option=OPTIONS).decode()

    def response(self, *args: Any, **kwargs: Any) -> Any:
        options = OPTIONS | orjson.OPT_APPEND_NEWLINE | (orjson.OPT_INDENT_2 if self.app.debug else 0)
        body = orjson.dumps(_one_value(args, kwargs), default=_default, option=options)
        return self.app.response_class(body, mimetype=self.mimetype)

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return orjson.loads(s) if not kwargs else super().loads(s, **kwargs)
