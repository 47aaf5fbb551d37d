"""Files on tickets: upload (multipart/form-data, spooled to disk as it arrives) and download
(streamed from the blob store, never shown inline unless a raster image)."""

from typing import Annotated

from pydantic import BaseModel, WithJsonSchema
from quart import Response, g, request
from quart_schema import DataSource, document_request

from helpdesk.api.blueprint import api
from helpdesk.api.openapi import documents
from helpdesk.api.schemas import AttachmentOut
from helpdesk.download_response import file_response
from helpdesk.errors import BadRequest
from helpdesk.services import attachments

BinaryFile = Annotated[bytes, WithJsonSchema({"type": "string", "format": "binary"})]


class AttachmentUpload(BaseModel):
    files: list[BinaryFile]


class AttachmentIdsOut(BaseModel):
    data: list[AttachmentOut]


@api.post("/tickets/<ticket_id>/attachments")
@document_request(AttachmentUpload, source=DataSource.FORM_MULTIPART)
@documents(201, AttachmentIdsOut)
async def upload_attachments(ticket_id: str) -> tuple[dict, int]:
    """Upload one or more files (form field `files`) to the ticket; 201 with their ids. A comment then
    carries them with `attachmentIds`. Over ATTACHMENT_MAX_BYTES a file, or the request over
    ATTACHMENTS_MAX_REQUEST_BYTES, is 413."""
    if request.mimetype != "multipart/form-data":
        raise BadRequest("Send the files as multipart/form-data, each in a field named `files`.")
    try:
        uploaded = await request.files
    except ValueError as error:  # a malformed multipart body
        request.discard_spools()
        raise BadRequest(f"The multipart body could not be read: {error}") from error
    except BaseException:  # over a size limit
        request.discard_spools()
        raise
    given = []
    for name, storage in uploaded.items(multi=True):
        if name == "files":
            given.append(attachments.Given(storage.filename or "", storage.stream))
        else:
            storage.stream.discard()
    rows = await attachments.add_files(human_id=ticket_id, files=given, actor=g.user)
    return {"data": [attachments.attachment_out(row) for row in rows]}, 201


@api.get("/attachments/<int:attachment_id>")
@documents(200, media_type="application/octet-stream")
async def download_attachment(attachment_id: int) -> Response:
    """The file's bytes, to whoever may see the comment that carries it (else 404)."""
    file = await attachments.download(attachment_id=attachment_id, actor=g.user)
    return file_response(file)
