"""What an agent sees of service levels (issue 17): the queue's SLA column and its sort, the "Due soon
/ breached" queue with its count, a ticket's due times and why they are what they are. axe-core
finds nothing on these screens, and at 390 px none of them scrolls sideways."""

import re

from playwright.sync_api import Page, expect

from tests.browser.conftest import screenshot
from tests.browser.test_axe import violations
from tests.browser.test_phone_width import PHONE, WIDE_ENOUGH

CLOCK_WORDS = re.compile(r"^(Warning: )?(due in .+|breached .+ ago|met in .+|paused|met|breached)$")


def quiet(page: Page) -> None:
    """Wait until no htmx request is in flight (conftest's `settle` polls a string predicate, which
    the pages' Content-Security-Policy refuses to evaluate once it has to poll)."""
    expect(page.locator(".htmx-request")).to_have_count(0)


def test_the_sla_column_sorts_most_urgent_first_and_due_soon_has_its_queue(page: Page):
    page.goto("/queues/open")
    header = page.get_by_role("columnheader", name=re.compile(r"^SLA"))
    expect(header).to_be_visible()
    header.get_by_role("link").click()
    expect(page).to_have_url(re.compile(r"sort=due"))
    expect(header).to_have_attribute("aria-sort", "ascending")
    first = page.locator("#queues-list .ticket-row .sla-cell .sla").first
    expect(first).to_have_class(re.compile(r"sla-breached"))  # the demo desk has overdue tickets
    expect(first.locator("time")).to_have_attribute("title", re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d "))

    due = page.locator("#queues-nav a", has_text="Due soon / breached")
    expect(due.locator(".count")).to_have_text(re.compile(r"\d+"))  # the menu fetches its counts
    count = int(re.sub(r"\D", "", due.locator(".count").inner_text()))
    assert count > 0
    due.click()
    page.wait_for_url(re.compile(r"/queues/due$"))
    expect(page.locator("#queues-nav .count").first).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text("Due soon / breached")
    cells = page.locator("#queues-list .ticket-row .sla-cell .sla")
    expect(cells.first).to_be_visible()
    for n in range(cells.count()):
        expect(cells.nth(n)).to_have_class(re.compile(r"sla-(breached|warning)"))
        expect(cells.nth(n)).to_have_text(CLOCK_WORDS)
    quiet(page)
    assert violations(page) == []
    screenshot(page, "queue-due-soon")

    page.set_viewport_size(PHONE)
    expect(page.locator("#queues-list .ticket-row .sla-cell .cell-label").first).to_have_text("SLA")
    expect(page.locator("#queues-list .ticket-row .sla-cell .cell-label").first).to_be_visible()
    assert page.evaluate(WIDE_ENOUGH), "the Due soon queue scrolls sideways at 390 px"


def test_a_ticket_shows_its_due_times_and_explains_them(page: Page):
    page.goto("/queues/due")
    page.locator("#queues-list a.ticket-link").first.click()
    page.wait_for_url(re.compile(r"/tickets/INC-\d+$"))
    panel = page.locator("#tickets-clocks")
    expect(panel.get_by_role("heading", name="Service level")).to_be_visible()
    expect(panel.locator("dl.sla-targets")).to_be_visible()  # the panel has loaded itself
    targets = panel.locator("dt")
    expect(targets.first).to_have_text(re.compile(r"First response|Next response|Resolution"))
    shown = panel.locator("dd .sla")
    for n in range(shown.count()):
        expect(shown.nth(n)).to_have_text(CLOCK_WORDS)
    expect(panel.locator(".sla-breached, .sla-warning").first).to_be_visible()  # it came from Due soon
    expect(panel.locator("time").first).to_have_attribute("title", re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d "))

    panel.get_by_role("link", name="Why these times?").click()
    why = page.locator("#tickets-sla")
    expect(why.get_by_role("heading", name="Why these times")).to_be_visible()
    expect(why.locator("dt").first).to_have_text("Policy")
    expect(why.locator("ol.sla-steps li").first).to_be_visible()
    expect(page).to_have_url(re.compile(r"/tickets/INC-\d+$"))  # loaded in place, not a new page
    quiet(page)
    assert violations(page) == []
    screenshot(page, "ticket-sla")

    page.set_viewport_size(PHONE)
    assert page.evaluate(WIDE_ENOUGH), "the ticket page with its SLA explanation scrolls sideways at 390 px"
