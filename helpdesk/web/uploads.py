"""Forms that carry files (the reply and new-ticket forms): bound with their files spooled to disk,
or, when the upload is over a size limit, handed back empty with a message saying which limit."""

from typing import Any

from quart import request
from werkzeug.exceptions import RequestEntityTooLarge

from helpdesk.errors import TooLarge
from helpdesk.services import attachments
from helpdesk.services.attachments import Given
from helpdesk.web.forms import CsrfForm

TOO_LARGE_STATUS = 413


def too_large_message(error: Exception) -> str:
    """What a person can do about a refused upload: the limits, in sizes they read."""
    per_file = attachments.human_size(attachments.settings["max_file"])
    in_all = attachments.human_size(attachments.max_request_bytes())
    why = error.message if isinstance(error, TooLarge) else "The files are too large."
    limits = f"Files may be up to {per_file} each and {in_all} in all"
    return f"{why} {limits}: nothing was sent, choose smaller files."


async def form_with_files(form_class: type[CsrfForm], **kwargs: Any) -> tuple[Any, list[Given], str]:
    """The bound form, its chosen files, and a refusal message ("" when the upload was within limits).
    A refused upload was never read whole: the form comes back unbound (what was typed is lost)."""
    try:
        form = await form_class.from_request(**kwargs)
        uploaded = await request.files if request.method == "POST" else None
    except (TooLarge, RequestEntityTooLarge) as error:
        request.discard_spools()
        form = form_class(formdata=None, **kwargs)
        message = too_large_message(error)
        form.form_errors.append(message)
        form.csrf_token.errors = []  # not validated: nothing to say about it
        return form, [], message
    files = [Given(f.filename or "", f.stream) for f in uploaded.getlist("files")] if uploaded else []
    return form, attachments.chosen(files), ""
