"""The HTML + htmx interface: one module per screen family."""

from quart import Quart, request
from werkzeug.exceptions import HTTPException

from helpdesk.web import (
    account,
    admin,
    admin_sla,  # noqa: F401 - adds the service level screens to admin's blueprint
    attachments,
    auth,
    bulk_actions,
    canned,
    confirm,
    contact_proposals,
    dashboard,
    live,
    mail,
    notifications,
    pages,
    passwords,
    queues,
    sla,
    stream,
    tags,
    ticket_edits,
    ticket_links,
    tickets,
    views,
)

BLUEPRINTS = (
    auth.bp,
    queues.bp,
    bulk_actions.bp,
    tickets.bp,
    ticket_edits.bp,
    contact_proposals.bp,
    dashboard.bp,
    admin.bp,
    account.bp,
    stream.bp,
    notifications.bp,
    mail.bp,
    attachments.bp,
    live.bp,
    tags.bp,
    canned.bp,
    views.bp,
    ticket_links.bp,
    sla.bp,
)
for _blueprint in BLUEPRINTS:  # once per process: create_app may run many times (tests, workers)
    _blueprint.register_error_handler(Exception, pages.error_page)
for _blueprint in (*BLUEPRINTS, confirm.bp, passwords.bp):
    # Each blueprint starts with Flask's default template context processor (Quart swaps in its own
    # for the app only). Under Quart it finds no Flask context and adds nothing, but as a plain
    # function Quart runs it in its thread pool: a hand-off to another thread on every page.
    _blueprint.template_context_processors[None] = [
        processor
        for processor in _blueprint.template_context_processors[None]
        if processor.__module__ != "flask.templating"
    ]


def register_web(app: Quart) -> None:
    """Mount the screens, their template helpers and HTML error pages (outside /api only)."""
    for blueprint in (*BLUEPRINTS, passwords.bp):
        app.register_blueprint(blueprint)
    app.add_url_rule("/favicon.ico", "favicon", pages.favicon)
    app.context_processor(auth.template_context)
    app.add_template_filter(pages.age)
    app.add_template_filter(pages.when)
    app.add_template_filter(pages.ago)
    app.add_template_global(sla.sla_badge)
    app.add_template_global(pages.badge)
    app.add_template_global(pages.options)
    app.add_template_global(pages.template_url_for, name="url_for")
    pages.add_plain_templates(app)
    # Chain after any app-wide handler already installed (the API's, for unmatched /api paths).
    earlier = app.error_handler_spec[None][None].get(HTTPException)

    async def html_or_earlier(error: HTTPException):
        if request.path == "/api" or request.path.startswith("/api/"):
            return await earlier(error) if earlier else error
        return await pages.error_page(error)

    app.register_error_handler(HTTPException, html_or_earlier)
    app.register_error_handler(Exception, pages.fault_page)
