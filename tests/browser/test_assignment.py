"""Assignment end to end: an admin makes a new group round robin with the demo agent in it; the
agent switches away on their Account page, the header says so, and the admin's group shows it."""

import uuid

from playwright.sync_api import Page, expect


def test_admin_sets_round_robin_and_an_agent_switches_away(admin_page: Page, page: Page):
    name = f"Rota {uuid.uuid4().hex[:6]}"
    admin_page.goto("/admin/groups")
    admin_page.get_by_label("Name").fill(name)
    admin_page.get_by_role("button", name="Add group").click()
    group = admin_page.locator("section.card", has=admin_page.get_by_role("heading", name=name))
    group.get_by_label("Add agent").select_option(label="Priya Shah")
    group.get_by_role("button", name="Add").click()
    group.get_by_label("New tickets go to").select_option("roundRobin")
    group.get_by_role("button", name=f"Save the assignment of {name}").click()
    expect(admin_page.locator(".notice")).to_contain_text(
        f"{name}: new tickets now go to each available member in turn"
    )
    expect(group.get_by_label("New tickets go to")).to_have_value("roundRobin")
    expect(group.locator(".members li", has_text="Priya")).to_contain_text("Available")

    header = page.locator(".site-header .availability")
    expect(header).to_have_text("Available")
    page.goto("/account")
    page.get_by_role("button", name="Set me away").click()
    expect(page.locator(".notice")).to_contain_text("You are away")
    expect(header).to_have_text("Away")
    admin_page.reload()
    expect(group.locator(".members li", has_text="Priya")).to_contain_text("Away")

    page.get_by_role("button", name="Set me available").click()  # the demo agent as other tests expect her
    expect(header).to_have_text("Available")
