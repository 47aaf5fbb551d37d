"""Signing in from a crafted link keeps the browser on this site (issue 12, finding 1)."""

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page

from tests.browser.conftest import DEMO_PASSWORD


@pytest.mark.parametrize("raw_next", ["/%09/evil.example/", "/%5C/evil.example/", "/%0a/evil.example/"])
def test_sign_in_with_a_crafted_next_stays_on_the_site(anonymous_page: Page, base_url: str, raw_next: str):
    page = anonymous_page
    page.goto(f"/login?next={raw_next}")
    page.get_by_label("Email").fill("priya@example.com")
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    landed = urlsplit(page.url)
    assert (landed.scheme, landed.netloc, landed.path) == ("http", urlsplit(base_url).netloc, "/")
