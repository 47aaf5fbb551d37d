"""The live stream of changes the token's user may see (docs/api.md, "Live stream")."""

from quart import Response, current_app, g, request
from quart_schema import document_querystring

from helpdesk.api.blueprint import api
from helpdesk.api.openapi import documents
from helpdesk.api.schemas import QueryModel
from helpdesk.services import streams
from helpdesk.services.users import user_for_token


class StreamQuery(QueryModel):
    lastEventId: str | None = None  # the same as the Last-Event-ID header: resume after this id


@api.get("/stream")
@documents(200, media_type=streams.MEDIA_TYPE)
@document_querystring(StreamQuery)
async def stream() -> Response:
    """Server-sent events: each change the user may see, as it happens. `Last-Event-ID` (or
    `?lastEventId=`) resumes after that event; one too old to resume from gets a `resync` event."""
    token = request.headers["Authorization"].partition(" ")[2].strip()
    opened = streams.open_stream(
        dispatcher=current_app.extensions["feed"],
        user=g.user,
        after=streams.last_event_id(request.headers.get("Last-Event-ID"), request.args.get("lastEventId")),
        limit=current_app.config["STREAMS_PER_USER"],
        heartbeat=current_app.config["STREAM_HEARTBEAT_SECONDS"],
        recheck=lambda: user_for_token(token),
    )
    response = Response(streams.events(opened), mimetype=streams.MEDIA_TYPE, headers=streams.HEADERS)
    response.timeout = None  # it lasts until the client or the app stops: no RESPONSE_TIMEOUT for it
    return response
