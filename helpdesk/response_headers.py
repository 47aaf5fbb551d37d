"""The security and caching headers of every response, set in this one place for pages, partials,
the API, static files, /confirm and error pages alike."""

from quart import Quart, Response, request

# Scripts and styles come only from /static: no inline <script>, style="" or event handler
# attributes anywhere, and htmx's own indicator style is turned off (base.html's htmx-config).
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    )
)
ALWAYS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}
HSTS = "max-age=31536000"


def install(app: Quart) -> None:
    """Add the headers to every response; HSTS only when the site is served over https."""
    headers = ALWAYS | (
        {"Strict-Transport-Security": HSTS} if app.config["BASE_URL"].startswith("https://") else {}
    )

    @app.after_request
    async def add_headers(response: Response) -> Response:
        response.headers.update(headers)
        # A route may ask for stricter values (/confirm: no-referrer) or a brief private cache
        # (the queue menu's counts); everything else that is not a static file is never stored.
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if request.endpoint != "static":
            response.headers.setdefault("Cache-Control", "no-store")
            if not request.path.startswith("/api/"):
                response.vary.add("Cookie")  # the page shows who is signed in
        return response
