"""A desk that fits a phone (issue 16 item 6): at 390 px no main page scrolls sideways, the queue
menu's counts stand apart from their labels, the header's links keep to one line, and every
value on a queue card has its label."""

import re

from playwright.sync_api import Page, expect

from tests.browser.conftest import settle

PHONE = {"width": 390, "height": 844}
WIDE_ENOUGH = "document.documentElement.scrollWidth <= window.innerWidth"
ONE_LINE = """e => e.getClientRects().length === 1
  && e.getBoundingClientRect().height < 1.5 * parseFloat(getComputedStyle(e).lineHeight)"""
# The elements wider than the viewport, to say what overflows when the check fails.
CULPRITS = """() => [...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > window.innerWidth + 0.5)
  .slice(0, 5).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))"""


def fits(page: Page, path: str) -> None:
    page.goto(path)
    settle(page)
    assert page.evaluate(WIDE_ENOUGH), f"{path} scrolls sideways: {page.evaluate(CULPRITS)}"


def test_no_main_page_scrolls_sideways_at_390px(page: Page, admin_page: Page, anonymous_page: Page):
    anonymous_page.set_viewport_size(PHONE)
    fits(anonymous_page, "/login")
    page.set_viewport_size(PHONE)
    for path in ("/queues/open", "/tickets/new", "/account", "/reports"):
        fits(page, path)
    page.goto("/queues/open")
    ticket = page.locator("#queues-list a.ticket-link").first.get_attribute("href")
    fits(page, ticket)
    admin_page.set_viewport_size(PHONE)
    admin_paths = ("/admin/users", "/admin/groups", "/admin/states", "/admin/organisations")
    for path in (*admin_paths, "/admin/calendars", "/admin/sla-policies"):
        fits(admin_page, path)
    admin_page.goto("/admin/users")
    fits(admin_page, admin_page.get_by_role("link", name="Priya", exact=False).first.get_attribute("href"))


def test_queue_counts_stand_apart_from_their_labels(page: Page):
    """They read "My open tickets36", on screen and to a screen reader."""
    page.set_viewport_size(PHONE)
    page.goto("/queues/open")
    link = page.locator("#queues-nav a", has=page.locator(".count")).first
    expect(link).to_be_visible()
    expect(page.get_by_role("link", name=re.compile(r"^All open\W+\d+ tickets$"))).to_have_count(1)
    label, count = link.locator("span").first.bounding_box(), link.locator(".count").bounding_box()
    assert count["x"] - (label["x"] + label["width"]) >= 4, "the count touches its label"


def test_header_links_keep_to_one_line(admin_page: Page):
    page = admin_page
    page.set_viewport_size(PHONE)
    page.goto("/queues/open")
    for name in ("New ticket", "Reports", "Admin", "Account"):
        one_line = page.get_by_role("link", name=name, exact=True).evaluate(ONE_LINE)
        assert one_line, f"{name} wraps"


def test_every_value_on_a_phone_queue_card_has_its_label(page: Page):
    """Cards showed "12d 12d" with nothing saying which was the age."""
    page.set_viewport_size(PHONE)
    page.goto("/queues/open")
    row = page.locator("#queues-list .ticket-row").first
    expect(row).to_be_visible()
    for cell in row.locator("td:not(.title)").all():
        label = cell.locator(".cell-label")
        expect(label).to_be_visible()
    text = row.inner_text()
    for label in ("Organisation", "State", "Priority", "Assignee", "Age", "Updated"):
        assert label in text, label
