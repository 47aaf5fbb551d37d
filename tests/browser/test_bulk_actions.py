"""Bulk actions in the browser (issue 16 tool 2): three rows ticked (one by the `x` key), one
state for all of them, one summary, the list refreshed in place; the page's box ticks every row."""

import re

from playwright.sync_api import Page, expect


def test_a_bulk_state_change_of_three_tickets(page: Page):
    page.goto("/queues/open")
    rows = page.locator("#queues-list .ticket-row")
    chosen = [rows.nth(n).locator("a.ticket-link").inner_text() for n in range(3)]
    rows.nth(0).get_by_role("checkbox").check()
    rows.nth(1).get_by_role("checkbox").check()
    page.locator("h1").click()  # j and k move between rows when no form field has the focus
    page.keyboard.press("j")  # selects the first row
    page.keyboard.press("j")
    page.keyboard.press("j")  # the third row
    page.keyboard.press("x")
    expect(rows.nth(2).get_by_role("checkbox")).to_be_checked()
    bulk = page.locator("#queues-bulk")
    expect(bulk.locator(".bulk-count")).to_have_text("3 selected")
    bulk.get_by_label("With the selected").select_option(label="Set state")
    expect(bulk.get_by_label("Priority")).to_be_hidden()
    bulk.get_by_label("State").select_option(label="Pending")
    bulk.get_by_role("button", name="Apply to selected").click()
    expect(page.locator("#queues-bulk [role=status]")).to_have_text("3 updated")
    expect(page.locator("#queues-list input[name=ticket]:checked")).to_have_count(0)
    for human_id in chosen:
        page.goto(f"/tickets/{human_id}")
        expect(page.locator("#t-state option:checked")).to_have_text("Pending")
        expect(page.locator("#tickets-history")).to_contain_text(re.compile("changed State"))


def test_the_header_box_ticks_every_row_on_the_page(page: Page):
    page.goto("/queues/open")
    boxes = page.locator("#queues-list input[name=ticket]")
    page.get_by_label("Select all on this page").check()
    expect(page.locator("#queues-bulk .bulk-count")).to_have_text(f"{boxes.count()} selected")
    assert all(box.is_checked() for box in boxes.all())
