"""Domain errors, defined once and mapped once per blueprint (JSON for api, a page for web)."""


class DomainError(Exception):
    """Base of every error a service raises on purpose; `status` is its HTTP meaning."""

    status = 400
    title = "Bad Request"

    def __init__(self, message: str, errors: dict[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors or {}


class BadRequest(DomainError):
    """A malformed request or a query value outside what the route accepts."""

    status = 400
    title = "Bad Request"


class NotFound(DomainError):
    status = 404
    title = "Not Found"


class Forbidden(DomainError):
    status = 403
    title = "Forbidden"


class Unauthorized(DomainError):
    status = 401
    title = "Unauthorized"


class Conflict(DomainError):
    status = 409
    title = "Conflict"


class NewReplies(Conflict):
    """A reply written against an older thread: others replied since (`replies`, as the thread
    shows them). Sent anyway, it goes through."""

    def __init__(self, message: str, replies: list) -> None:
        super().__init__(message)
        self.replies = replies


class Invalid(DomainError):
    """Well-formed but invalid input; `errors` maps each field to what is wrong with it."""

    status = 422
    title = "Unprocessable Entity"


class RateLimited(DomainError):
    status = 429
    title = "Too Many Requests"


class LinkRefused(DomainError):
    """A one-time link in an email that cannot be used: malformed, tampered with or for another purpose."""

    status = 400
    title = "This link is not valid"


class LinkExpired(LinkRefused):
    status = 410
    title = "This link has expired"


class LinkUsed(LinkRefused):
    status = 410
    title = "This link has already been used"


class LinkGone(LinkRefused):
    """The link was genuine, but what it points at (a ticket, a contact) no longer exists."""

    status = 410
    title = "This link no longer applies"


class TooLarge(DomainError):
    """A file or an upload over its size limit."""

    status = 413
    title = "Payload Too Large"
