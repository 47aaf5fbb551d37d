"""Templates' url_for is remembered (web/pages.template_url_for): the same URLs as url_for builds."""

from quart import url_for

from helpdesk.web import pages


async def test_remembered_urls_are_the_ones_url_for_builds(app):
    calls = [
        ("static", {"filename": "app.css"}),
        ("tickets.show", {"human_id": "INC-7"}),
        ("tickets.panel", {"human_id": "INC-7", "name": "fields"}),
        ("queues.queue", {"name": "my tickets", "q": "a&b c"}),
    ]
    async with app.test_request_context("/"):
        for endpoint, values in calls * 2:  # built, then remembered
            assert pages.template_url_for(endpoint, **values) == url_for(endpoint, **values)
        # Not remembered: an external URL, which names the request's host.
        external = pages.template_url_for("tickets.show", human_id="INC-7", _external=True)
        assert external == "http://localhost/tickets/INC-7"
    async with app.test_request_context("/", headers={"Host": "desk.example"}):
        assert pages.template_url_for("tickets.show", human_id="INC-7", _external=True) == (
            "http://desk.example/tickets/INC-7"
        )
        assert pages.template_url_for("tickets.show", human_id="INC-7") == "/tickets/INC-7"


async def test_pages_use_the_remembered_url_for(app):
    assert app.jinja_env.globals["url_for"] is pages.template_url_for
    assert app.extensions["plain_templates"].globals["url_for"] is pages.template_url_for
