"""A file on a ticket, downloaded from the thread (signed-in users who may see what carries it)."""

from quart import Blueprint, Response

from helpdesk.download_response import file_response
from helpdesk.services import attachments
from helpdesk.web.auth import current_user, login_required

bp = Blueprint("attachments", __name__, url_prefix="/attachments")


@bp.get("/<int:attachment_id>")
@login_required
async def download(attachment_id: int) -> Response:
    """The file's bytes; 404 to whoever may not see the comment that carries it."""
    file = await attachments.download(attachment_id=attachment_id, actor=await current_user())
    return file_response(file)
