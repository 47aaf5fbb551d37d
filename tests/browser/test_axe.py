"""axe-core (npm `axe-core`, pinned in package-lock.json) finds no accessibility violation on the
main screens, the agent's new tools among them: the queue with its bulk form, the ticket page with
its editing form, the shortcuts list and the account page with the time zone."""

from pathlib import Path

import pytest
from playwright.sync_api import Page

from tests.browser.conftest import settle

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ['violations']});
  const where = v => v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', ');
  return result.violations.map(v => `${v.id}: ${v.help} (${where(v)})`);
}"""


def violations(page: Page) -> list[str]:
    """axe's violations on what the page shows now. axe.min.js is injected through the DevTools
    protocol (page.evaluate), which the page's Content-Security-Policy (no inline script) allows."""
    assert AXE.exists(), "run `make node-deps`: the browser tests inject node_modules/axe-core/axe.min.js"
    page.evaluate(AXE.read_text() + "\n;true")
    return page.evaluate(RUN)


@pytest.mark.parametrize("path", ["/queues/open", "/account", "/tickets/new", "/reports"])
def test_no_violations_on_an_agents_screens(page: Page, path: str):
    page.goto(path)
    settle(page)
    assert violations(page) == []


def test_no_violations_on_the_ticket_page_and_its_tools(page: Page):
    page.goto("/queues/open")
    page.locator("#queues-list a.ticket-link").first.click()
    settle(page)
    assert violations(page) == []
    page.get_by_role("link", name="Edit", exact=True).click()
    page.locator("#tickets-edit").wait_for()
    assert violations(page) == []
    # The check can fail: an image without a text alternative is reported.
    page.evaluate("document.querySelector('#tickets-edit').append(document.createElement('img'))")
    assert any(v.startswith("image-alt") for v in violations(page))


def test_no_violations_on_the_service_level_admin_screens(admin_page: Page):
    """Admin → Calendars (the list and one calendar with its holiday forms), SLA policies with the
    policy form, and States with its "Pauses SLA" column (issue 17)."""
    page = admin_page
    page.goto("/admin/calendars")
    if not page.get_by_role("link", name="Axe office", exact=True).count():
        page.get_by_label("Name").fill("Axe office")
        page.get_by_label("Time zone").fill("Europe/London")
        page.get_by_label("Business hours").fill("Mon-Fri 09:00-17:30")
        page.get_by_role("button", name="Add calendar").click()
        page.get_by_role("status").wait_for()
    settle(page)
    assert violations(page) == []
    page.get_by_role("link", name="Axe office", exact=True).click()
    page.get_by_role("heading", name="Holidays", exact=True).wait_for()
    assert violations(page) == []
    for path in ("/admin/sla-policies", "/admin/states"):
        page.goto(path)
        settle(page)
        assert violations(page) == [], path
    page.goto("/admin/sla-policies")
    assert page.get_by_role("button", name="Add policy").count() == 1
