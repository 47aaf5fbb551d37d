"""The main screens work under the Content-Security-Policy: the browser reports no violation."""

import re

from playwright.sync_api import Page, expect

from tests.browser.conftest import settle

RECORD_VIOLATIONS = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.cspViolations.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`);
});
"""


def watch(page: Page) -> list[str]:
    """Console messages about the policy, and every violation event, of every page loaded from now."""
    reported: list[str] = []
    page.on("console", lambda m: reported.append(m.text) if "Content Security Policy" in m.text else None)
    page.context.add_init_script(RECORD_VIOLATIONS)
    return reported


def visit(page: Page, path: str, reported: list[str]) -> None:
    response = page.goto(path)
    assert "unsafe-inline" not in response.headers["content-security-policy"]
    settle(page)
    reported += page.evaluate("window.cspViolations")


def test_agent_screens_report_no_policy_violation(page: Page):
    reported = watch(page)
    visit(page, "/queues/open", reported)
    expect(page.locator("#queues-nav")).to_contain_text(re.compile(r"\d"))  # the counts came via htmx
    human_id = page.locator("#queues-list a.ticket-link").first.inner_text()
    page.locator("#q").fill("zzzz-no-such-words")
    expect(page.locator("#queues-list")).to_contain_text("No tickets match.")
    reported += page.evaluate("window.cspViolations")
    for path in (f"/tickets/{human_id}", "/tickets/new", "/reports", "/api/docs"):
        visit(page, path, reported)
    assert reported == []


def test_admin_and_sign_in_screens_report_no_policy_violation(admin_page: Page, anonymous_page: Page):
    for page, paths in ((admin_page, ("/admin/users",)), (anonymous_page, ("/login",))):
        reported = watch(page)
        for path in paths:
            visit(page, path, reported)
        assert reported == []
