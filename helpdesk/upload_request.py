"""Requests that carry files: a body limit of their own, and files spooled to disk as they arrive.

Quart gives every request the one MAX_CONTENT_LENGTH (a megabyte: JSON and forms) and parses multipart
files into memory, or into a temporary file of its own. The upload routes (UPLOAD_PATHS) instead accept
up to ATTACHMENTS_MAX_REQUEST_BYTES, and each file goes straight into an attachments.Spool, which
hashes it, counts it (413 over ATTACHMENT_MAX_BYTES) and keeps its first bytes for sniffing while at
most one chunk of it is in memory. The limit is chosen as the request is built, before its body is
read: the path and method are all that is known then."""

import re
from typing import Any

from quart import Quart, Request
from quart.formparser import FormDataParser

from helpdesk.services import attachments

# POST routes that take files: the API's upload, the reply form, the new-ticket form.
UPLOAD_PATHS = re.compile(r"/api/tickets/[^/]+/attachments|/tickets/[^/]+/comments|/tickets/new")


class UploadRequest(Request):
    """A request whose body limit and file storage depend on whether its route takes files."""

    upload_limit: int | None = None  # ATTACHMENTS_MAX_REQUEST_BYTES, set by `install`

    def __init__(self, method: str, scheme: str, path: str, *args: Any, **kwargs: Any) -> None:
        self.takes_files = method == "POST" and UPLOAD_PATHS.fullmatch(path) is not None
        if self.takes_files:
            kwargs["max_content_length"] = self.upload_limit
        super().__init__(method, scheme, path, *args, **kwargs)
        self.spools: list[attachments.Spool] = []  # every file spooled, to drop if the upload is refused
        if self.takes_files:
            self.max_content_length = self.upload_limit

    def make_form_data_parser(self) -> FormDataParser:
        if not self.takes_files:
            return super().make_form_data_parser()
        return self.form_data_parser_class(
            max_content_length=self.max_content_length,
            max_form_memory_size=self.max_form_memory_size,
            max_form_parts=self.max_form_parts,
            cls=self.parameter_storage_class,
            stream_factory=self._spool,
        )

    def _spool(self, *_: Any, **__: Any) -> attachments.Spool:
        spool = attachments.Spool()
        self.spools.append(spool)
        return spool

    def discard_spools(self) -> None:
        """Drop what was spooled of a refused upload (a later file over the limit, a broken body)."""
        for spool in self.spools:
            spool.discard()


def install(app: Quart) -> None:
    """Build the app's requests as UploadRequests with the configured limit."""
    limit = int(app.config["ATTACHMENTS_MAX_REQUEST_BYTES"])
    app.request_class = type("UploadRequest", (UploadRequest,), {"upload_limit": limit})
