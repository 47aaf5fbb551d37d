"""The browser's live stream: the changes the signed-in user may see, for the live screens."""

from quart import Blueprint, Response, current_app, request, session

from helpdesk.errors import Unauthorized
from helpdesk.services import sessions, streams
from helpdesk.web.auth import current_user

bp = Blueprint("stream", __name__)


@bp.get("/stream")
async def stream() -> Response:
    """Server-sent events for this session (the API's `GET /api/stream`, by cookie); 401 when signed out."""
    user, session_id = await current_user(), session.get("sid")
    if user is None or not session_id:
        raise Unauthorized("Sign in to follow the desk live.")
    opened = streams.open_stream(
        dispatcher=current_app.extensions["feed"],
        user=user,
        after=streams.last_event_id(request.headers.get("Last-Event-ID"), request.args.get("lastEventId")),
        limit=current_app.config["STREAMS_PER_USER"],
        heartbeat=current_app.config["STREAM_HEARTBEAT_SECONDS"],
        recheck=lambda: sessions.user_for_session(session_id),
    )
    response = Response(streams.events(opened), mimetype=streams.MEDIA_TYPE, headers=streams.HEADERS)
    response.timeout = None  # it lasts until the client or the app stops: no RESPONSE_TIMEOUT for it
    return response
