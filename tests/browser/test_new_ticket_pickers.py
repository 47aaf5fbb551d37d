"""The new-ticket form's pickers (issue 16 item 2): the organisation by name from the directory, the
reporter from its people, a warning before filing for an unknown organisation, and a customer's
form that asks no contract or tenant."""

import re

from playwright.sync_api import Page, expect

from tests.browser.conftest import _fresh_page


def test_an_agent_picks_the_organisation_and_its_reporter_from_suggestions(page: Page):
    page.goto("/tickets/new")
    organisation = page.get_by_label("Organisation", exact=True)
    organisation.press_sequentially("acm")
    expect(page.locator("#queues-organisations option[value='Acme']")).to_have_count(1)
    organisation.fill("Acme")
    reporter = page.get_by_label("Reporter", exact=True)
    reporter.press_sequentially("acme")
    suggestion = page.locator("#tickets-reporters option[value='USR-100']")
    expect(suggestion).to_have_count(1)
    expect(suggestion).to_have_text(re.compile("Acme contact"))
    reporter.fill("USR-100")
    for label, value in (("Title", "Picked from the directory"), ("Description", "Pickers"),
                         ("Contract ID", "CON-9"), ("Tenant ID", "9")):  # fmt: skip
        page.get_by_label(label, exact=True).fill(value)
    page.get_by_role("button", name="Open ticket").click()
    page.wait_for_url(re.compile(r"/tickets/INC-\d+$"))
    expect(page.locator("#tickets-header")).to_contain_text("Acme")


def test_an_unknown_organisation_is_filed_only_after_the_warning_is_ticked(page: Page):
    page.goto("/tickets/new")
    fields = {"Title": "Unknown outfit", "Description": "Who?", "Organisation": "Acme Ltd"}
    fields |= {"Contract ID": "don't know", "Tenant ID": "?", "Reporter": "Bob at Acme"}
    for label, value in fields.items():
        page.get_by_label(label, exact=True).fill(value)
    page.get_by_role("button", name="Open ticket").click()
    warning = page.locator("#tickets-new .warning")
    expect(warning).to_be_visible()
    expect(warning).to_contain_text("File it anyway")
    expect(page).to_have_url(re.compile(r"/tickets/new$"))
    warning.get_by_role("checkbox").check()
    page.get_by_role("button", name="Open ticket").click()
    page.wait_for_url(re.compile(r"/tickets/INC-\d+$"))


def test_a_customers_form_asks_no_contract_or_tenant(browser, base_url):
    with _fresh_page(browser, base_url, "acme@customer.example") as customer:
        customer.goto("/tickets/new")
        expect(customer.get_by_label("Title", exact=True)).to_be_visible()
        expect(customer.get_by_label("Contract ID")).to_have_count(0)
        expect(customer.get_by_label("Tenant ID")).to_have_count(0)
        customer.get_by_label("Title", exact=True).fill("Printer jam")
        customer.get_by_label("Description", exact=True).fill("Tray 2")
        customer.get_by_role("button", name="Open ticket").click()
        customer.wait_for_url(re.compile(r"/tickets/INC-\d+$"))
        expect(customer.locator("#tickets-header")).to_contain_text("CON-2001")
