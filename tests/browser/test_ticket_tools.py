"""Quicker work on a ticket in the browser (issue 16 tool 7): `a` assigns to me, `?` lists the
shortcuts, j moves to the next ticket of the queue it came from, Show older brings the rest of a
long thread in place, the reporter shows by name."""

import re

from playwright.sync_api import Page, expect


def open_from_queue(page: Page, row: int = 0) -> str:
    page.goto("/queues/open")
    link = page.locator("#queues-list a.ticket-link").nth(row)
    human_id = link.inner_text()
    link.click()
    page.wait_for_url(re.compile(rf"/tickets/{human_id}$"))
    return human_id


def test_keyboard_a_assigns_to_me_and_j_goes_to_the_next_of_the_queue(page: Page):
    page.goto("/queues/open")
    second = page.locator("#queues-list a.ticket-link").nth(1).inner_text()
    open_from_queue(page, 0)
    page.keyboard.press("?")
    expect(page.locator("#ticket-shortcuts")).to_be_visible()
    expect(page.locator("#ticket-shortcuts")).to_contain_text("assign to me")
    page.keyboard.press("Escape")
    if page.locator("#assign-to-me").count():
        page.keyboard.press("a")
        expect(page.locator("#assign-to-me")).to_have_count(0)
    expect(page.locator("#t-assignee option:checked")).to_have_text(re.compile("Priya"))
    expect(page.locator("#tickets-history")).to_contain_text("changed Assignee")
    page.keyboard.press("n")
    expect(page.get_by_label("Internal note: agents only")).to_be_checked()
    expect(page.get_by_label("Message")).to_be_focused()
    page.locator("h1").click()
    page.keyboard.press("j")
    page.wait_for_url(re.compile(rf"/tickets/{second}$"))


def test_show_older_brings_the_rest_of_a_long_thread(page: Page):
    human_id = open_from_queue(page, 5)
    for n in range(22):
        page.get_by_label("Message").fill(f"Update number {n}")
        page.get_by_role("button", name="Send", exact=True).click()
        expect(page.locator("#tickets-thread")).to_contain_text(f"Update number {n}")
    page.goto(f"/tickets/{human_id}")
    thread = page.locator("#tickets-thread")
    expect(thread.locator(".comment", has_text="Update number 21")).to_have_count(1)
    shown = thread.locator(".comment").count()
    assert shown == 20, shown
    thread.get_by_role("link", name=re.compile(r"Show \d+ older")).click()
    expect(
        page.locator("#tickets-thread .comment", has_text=re.compile(r"Update number 0\s*$"))
    ).to_have_count(1)
    assert page.locator("#tickets-thread .comment").count() > 20
    expect(page).to_have_url(re.compile(rf"/tickets/{human_id}$"))  # swapped in place
