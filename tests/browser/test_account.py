"""Accounts end to end: an admin invites a new agent, the invitation arrives over real SMTP, the
agent chooses a password from the link, signs in twice and signs the other browser out."""

import re
import uuid

from playwright.sync_api import Page, expect

from tests.browser.conftest import _fresh_page, screenshot
from tests.browser.test_confirm_link import wait_for_message

LINK = re.compile(r"https?://\S+/password/invitation/\S+")
PASSWORD = "a brand new passphrase"  # noqa: S105 - test password


def sign_in_as(page: Page, email: str, password: str) -> None:
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"^https?://[^/]+/$"))


def test_an_invited_agent_sets_a_password_and_signs_out_elsewhere(
    admin_page: Page, anonymous_page: Page, browser, base_url, mail_sink
):
    address = f"new-{uuid.uuid4().hex[:8]}@example.com"
    admin_page.goto("/admin/users")
    admin_page.get_by_label("Name").fill("Nia Invited")
    admin_page.get_by_label("Email").fill(address)
    admin_page.get_by_label("Agent").check()
    admin_page.get_by_role("button", name="Add user and send invitation").click()
    expect(admin_page.locator("main")).to_contain_text(address)

    message = wait_for_message(mail_sink, address, "choose a password")
    link = LINK.search(message.get_body(("plain",)).get_content()).group(0)
    anonymous_page.goto(link)
    anonymous_page.get_by_label("New password", exact=True).fill("too short")
    anonymous_page.get_by_label("New password again").fill("too short")
    anonymous_page.get_by_role("button", name="Set password").click()
    expect(anonymous_page.locator(".field-error").first).to_contain_text("at least 12 characters")
    anonymous_page.get_by_label("New password", exact=True).fill(PASSWORD)
    anonymous_page.get_by_label("New password again").fill(PASSWORD)
    anonymous_page.get_by_role("button", name="Set password").click()
    expect(anonymous_page.locator("main")).to_contain_text("Your password is set")

    sign_in_as(anonymous_page, address, PASSWORD)
    with _fresh_page(browser, base_url) as elsewhere:
        sign_in_as(elsewhere, address, PASSWORD)
        anonymous_page.get_by_role("link", name="Account").click()
        expect(anonymous_page.locator("main tbody tr")).to_have_count(2)
        screenshot(anonymous_page, "account")
        anonymous_page.get_by_role("button", name="Sign out everywhere else").click()
        expect(anonymous_page.locator(".notice")).to_contain_text("signed out everywhere else")
        expect(anonymous_page.locator("main tbody tr")).to_have_count(1)
        elsewhere.goto("/")
        expect(elsewhere).to_have_url(re.compile(r"/login"))


def test_the_sign_in_page_leads_to_a_password_reset(anonymous_page: Page):
    anonymous_page.goto("/login")
    anonymous_page.get_by_role("link", name="Forgot password?").click()
    anonymous_page.get_by_label("Email").fill("nobody-here@example.com")
    anonymous_page.get_by_role("button", name="Email me a link").click()
    expect(anonymous_page.locator("main")).to_contain_text("a link to choose a new password is on its way")
