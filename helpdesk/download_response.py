"""How a stored file is sent, by the API and the web alike: streamed, never sniffed by the browser,
saved rather than shown unless it is a raster image, under a name that cannot break the header."""

from urllib.parse import quote

from quart import Response

from helpdesk.services.attachments import Download


def content_disposition(filename: str, inline: bool) -> str:
    """RFC 6266: an ASCII fallback name and the UTF-8 name, both quoted so nothing can escape them."""
    fallback = "".join(c if 32 <= ord(c) < 127 and c not in '"\\%' else "_" for c in filename) or "file"
    kind = "inline" if inline else "attachment"
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def file_response(file: Download) -> Response:
    """The file's bytes as they are read from the store, CHUNK at a time."""
    response = Response(file.chunks, content_type=file.content_type)
    response.headers["Content-Length"] = str(file.size)
    response.headers["Content-Disposition"] = content_disposition(file.filename, file.inline)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response
