"""What an agent sees on the reports dashboard: charts, switching the period, downloading the CSV."""

import re
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.browser.conftest import screenshot


def test_dashboard_draws_its_charts_and_saves_a_screenshot(page: Page):
    page.get_by_role("link", name="Reports").click()
    page.wait_for_url(re.compile(r"/reports$"))
    expect(page).to_have_title("Reports · Helpdesk")
    for panel in ("created-resolved", "organisations", "open-by-state", "open-by-priority", "open-by-group"):
        expect(page.locator(f"#dashboard-{panel} svg[role=img] title").first).to_be_attached()
    expect(page.locator("#dashboard-created-resolved svg rect.created").first).to_be_attached()
    expect(page.locator("#dashboard-open-by-state svg rect.bar").first).to_be_visible()
    page.locator("#dashboard-open-by-state summary").click()
    expect(page.locator("#dashboard-open-by-state table")).to_be_visible()
    page.locator("#dashboard-open-by-state summary").click()
    screenshot(page, "dashboard")
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 390  # only the day chart scrolls


def test_switching_the_period_swaps_the_board_and_pushes_the_url(page: Page):
    page.goto("/reports?period=monthly")
    page.evaluate("window.notReloaded = true")
    label = page.locator("#dashboard-period")
    month = label.inner_text()
    page.get_by_role("link", name="Week", exact=True).click()
    expect(label).not_to_have_text(month)
    expect(label).to_contain_text("-W")
    expect(page).to_have_url(re.compile(r"period=weekly"))
    week = label.inner_text()
    page.get_by_role("link", name="← Previous").click()
    expect(label).not_to_have_text(week)
    expect(page.locator("#dashboard-created-resolved svg rect.created")).to_have_count(7)
    assert page.evaluate("window.notReloaded") is True
    page.go_back()
    expect(label).to_have_text(week)


def test_download_csv_gives_the_report(page: Page, tmp_path: Path):
    page.goto("/reports?period=monthly")
    with page.expect_download() as info:
        page.get_by_role("link", name="Download CSV").click()
    download = info.value
    assert re.fullmatch(r"tickets-\d{4}-\d{2}\.csv", download.suggested_filename)
    target = tmp_path / download.suggested_filename
    download.save_as(target)
    assert target.read_text().startswith("ticketNumber,customer,buyer,")
