"""Notifications live: an agent's menu counts a ticket another agent just assigned to them, without
a reload, and links to it."""

import re

from playwright.sync_api import Page, expect

from tests.browser.conftest import screenshot


def unread(page: Page) -> int:
    return int(page.locator("details#notifications-menu").get_attribute("data-unread"))


def set_assignee(page: Page, name: str) -> None:
    """Choose an assignee on the open ticket page and wait for the saved panel."""
    version = page.locator("#tickets-fields input[name=version]").get_attribute("value")
    page.get_by_label("Assignee").select_option(label=name)
    expect(page.locator("#tickets-fields input[name=version]")).not_to_have_value(version)


def test_an_assignment_reaches_the_assignees_menu_without_reload(page: Page, admin_page: Page):
    page.goto("/")  # Priya, the demo agent
    expect(page.locator("details#notifications-menu")).to_be_visible()  # loaded once its stream opened
    before = unread(page)
    page.evaluate("window.notReloaded = true")

    admin_page.goto("/tickets/INC-7")
    if admin_page.get_by_label("Assignee").input_value() != "":
        set_assignee(admin_page, "Unassigned")
    set_assignee(admin_page, "Priya Shah")

    menu = page.locator("details#notifications-menu")
    expect(menu).to_have_attribute("data-unread", str(before + 1))
    assert page.evaluate("window.notReloaded") is True
    menu.locator("summary").click()
    entry = menu.get_by_role("link", name=re.compile(r"assigned INC-7 to you"))
    expect(entry).to_be_visible()
    screenshot(page, "notifications")
    menu.get_by_role("button", name=re.compile(r"Mark read.*INC-7")).click()
    expect(page.locator("details#notifications-menu")).to_have_attribute("data-unread", str(before))
    page.locator("details#notifications-menu").get_by_role("link", name=re.compile("INC-7")).click()
    expect(page).to_have_url(re.compile(r"/tickets/INC-7$"))
