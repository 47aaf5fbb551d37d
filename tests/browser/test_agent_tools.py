"""The agents' tools of issue 16 in a browser: a tag added with autocomplete, a saved view in the
menu, a canned reply inserted with `/`, and two tickets merged."""

import re

from playwright.sync_api import Page, expect


def new_ticket(page: Page, title: str) -> str:
    """File a ticket for Acme through the form; its INC- number."""
    page.goto("/tickets/new")
    fields = {"Organisation": "Acme", "Reporter": "USR-100", "Title": title, "Description": title}
    fields |= {"Contract ID": "CON-9", "Tenant ID": "9"}
    for label, value in fields.items():
        page.get_by_label(label, exact=True).fill(value)
    page.get_by_role("button", name="Open ticket").click()
    page.wait_for_url(re.compile(r"/tickets/INC-\d+$"))
    return page.url.rsplit("/", 1)[1]


def test_an_agent_adds_a_tag_picked_from_the_suggestions(page: Page):
    first, second = new_ticket(page, "Tag me first"), new_ticket(page, "Tag me second")
    page.goto(f"/tickets/{first}")
    page.get_by_label("Add a tag").fill("Network Outage")
    page.locator("#tickets-tags").get_by_role("button", name="Add").click()
    expect(page.locator("#tickets-tags .tag-name")).to_have_text(["network-outage"])
    page.goto(f"/tickets/{second}")
    box = page.get_by_label("Add a tag")
    box.press_sequentially("netw")
    expect(page.locator("#tags-suggestions option[value='network-outage']")).to_have_count(1)
    box.fill("network-outage")
    page.locator("#tickets-tags").get_by_role("button", name="Add").click()
    expect(page.locator("#tickets-tags .tag-name")).to_have_text(["network-outage"])
    page.goto("/queues/open?tag=network-outage")
    expect(page.locator("#queues-list .ticket-row")).to_have_count(2)


def test_an_agent_saves_a_view_and_sees_it_in_the_menu_with_its_count(page: Page):
    new_ticket(page, "Zebra printer offline")
    page.goto("/queues/open")
    page.get_by_label("Search").fill("zebra")
    expect(page.locator("#queues-list .ticket-row")).to_have_count(1)
    page.get_by_role("link", name="Save as view").click()
    page.get_by_label("Name").fill("Zebra printers")
    page.get_by_role("button", name="Save view").click()
    page.wait_for_url(re.compile(r"/queues/open\?.*q=zebra"))
    view = page.locator("#queues-views").get_by_role("link", name=re.compile("^Zebra printers"))
    expect(view).to_contain_text("1")
    page.goto("/queues/mine")
    page.locator("#queues-views").get_by_role("link", name=re.compile("^Zebra printers")).click()
    expect(page.locator("#queues-list .ticket-row")).to_have_count(1)


def test_an_agent_inserts_a_canned_reply_by_typing_slash(page: Page):
    page.goto("/canned")
    page.get_by_label("Title").fill("Looking into it")
    page.get_by_label("Text").fill("Hello {customer_name}, we are on {ticket_number}. {not_a_placeholder}")
    page.get_by_role("button", name="Add").click()
    expect(page.locator("table.canned-replies")).to_contain_text("Looking into it")
    ticket = new_ticket(page, "Canned reply target")
    box = page.locator("#tickets-reply textarea[name=body]")
    box.focus()
    page.keyboard.press("/")
    choice = page.locator("#canned-list").get_by_role("link", name="Looking into it")
    expect(choice).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#tickets-reply textarea[name=body]")).to_have_value(
        re.compile(rf"^Hello .+, we are on {ticket}\. \{{not_a_placeholder\}}$")
    )
    expect(page.locator("#tickets-reply textarea[name=body]")).to_be_focused()


def test_an_agent_merges_a_duplicate_into_another_ticket(page: Page):
    target = new_ticket(page, "Original outage report")
    duplicate = new_ticket(page, "Duplicate outage report")
    page.get_by_label("Merge this duplicate into").fill(target)
    page.get_by_role("button", name="Merge…").click()
    expect(page.get_by_role("heading", name=f"Merge {duplicate} into {target}?")).to_be_visible()
    page.get_by_role("button", name=f"Merge into {target}").click()
    page.wait_for_url(re.compile(rf"/tickets/{target}$"))
    expect(page.locator("#tickets-links")).to_contain_text(f"Merged from {duplicate}")
    page.goto(f"/tickets/{duplicate}")
    expect(page.locator("#tickets-header")).to_contain_text("resolved")
    expect(page.locator("#tickets-links")).to_contain_text(f"Merged into {target}")
