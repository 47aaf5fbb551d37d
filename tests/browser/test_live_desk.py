"""The live desk with two agents in two browsers: Priya (B) sees what Alex (A) does on the ticket
she has open, without a reload, within 3 s; a ticket filed through the API appears in her open
queue; she sees Alex named as viewing; her reply after his gets the "new replies" choice, and
sending anyway posts it once; an assignment reaches her notifications."""

import json
import re
import urllib.request

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import SERVER_ENV, screenshot
from tests.liveserver import run_cli

LIVE_MS = 3000  # the bound: B sees A's change within 3 s


def open_ticket(page: Page, human_id: str) -> None:
    """Open the ticket and wait until its stream is open (the notifications menu loads then)."""
    page.goto(f"/tickets/{human_id}")
    expect(page.locator("details#notifications-menu")).to_be_visible()
    page.evaluate("window.notReloaded = true")


def post_comment(page: Page, text: str, *, internal: bool = False) -> None:
    reply = page.locator("#tickets-reply")
    if internal:
        reply.get_by_label(re.compile("Internal note")).check()
    reply.get_by_label("Message").fill(text)
    reply.get_by_role("button", name="Send").click()
    expect(page.locator("#tickets-thread")).to_contain_text(text)


def test_b_sees_a_viewing_commenting_and_changing_the_ticket_without_reload(page: Page, admin_page: Page):
    open_ticket(page, "INC-31")
    open_ticket(admin_page, "INC-31")
    expect(page.locator("#tickets-presence")).to_contain_text("Alex Admin")  # named as viewing
    expect(admin_page.locator("#tickets-presence")).to_contain_text("Priya Shah")

    post_comment(admin_page, "Router rebooted, watching it", internal=True)
    expect(page.locator("#tickets-thread")).to_contain_text("Router rebooted, watching it", timeout=LIVE_MS)
    expect(page.locator(".live-notice")).to_have_text("Alex Admin added an internal note.")

    state = admin_page.locator("#tickets-fields").get_by_label("State")
    target = "Pending" if state.locator("option:checked").inner_text() != "Pending" else "Open"
    version = admin_page.locator("#tickets-fields input[name=version]").get_attribute("value")
    state.select_option(label=target)
    expect(admin_page.locator("#tickets-fields input[name=version]")).not_to_have_value(version)
    notice = page.locator(".live-notice")
    expect(notice).to_have_text(f"Alex Admin set State to {target}.", timeout=LIVE_MS)
    expect(page.locator("#tickets-fields").get_by_label("State").locator("option:checked")).to_have_text(
        target
    )
    screenshot(page, "live-ticket")
    assert page.evaluate("window.notReloaded") is True

    admin_page.goto("/")  # A leaves: B's page stops naming them at once (the leave beacon)
    expect(page.locator("#tickets-presence")).not_to_contain_text("Alex Admin")


def test_b_reply_after_a_reply_gets_the_new_replies_choice_and_posts_once(page: Page, admin_page: Page):
    open_ticket(page, "INC-32")
    open_ticket(admin_page, "INC-32")
    page.locator("#tickets-reply").get_by_label("Message").fill("We are on it")
    expect(admin_page.locator("#tickets-presence")).to_contain_text("writing a reply")  # B is typing
    post_comment(admin_page, "Engineer booked for tomorrow")

    page.locator("#tickets-reply").get_by_role("button", name="Send", exact=True).click()
    collision = page.locator("#tickets-reply .collision")
    expect(collision).to_contain_text("Engineer booked for tomorrow")
    expect(page.locator("#tickets-reply").get_by_label("Message")).to_have_value("We are on it")
    screenshot(page, "live-new-replies")
    collision.get_by_role("button", name="Send anyway").click()
    expect(page.locator("#tickets-reply .collision")).to_have_count(0)
    thread = page.locator("#tickets-thread")
    expect(thread).to_contain_text("We are on it")
    expect(thread.locator(".comment", has_text="We are on it")).to_have_count(1)
    page.reload()
    expect(page.locator("#tickets-thread .comment", has_text="We are on it")).to_have_count(1)
    expect(page.locator("#tickets-reply").get_by_label("Message")).to_have_value("")  # the draft is gone


def test_a_draft_survives_a_reload(page: Page):
    open_ticket(page, "INC-33")
    with page.expect_response(re.compile(r"/tickets/INC-33/draft$")) as saved:
        page.locator("#tickets-reply").get_by_label("Message").fill("Half written answer")
    assert saved.value.status == 204
    page.reload()
    message = page.locator("#tickets-reply").get_by_label("Message")
    expect(message).to_have_value("Half written answer")
    message.fill("Sent at once")  # sent before the draft's save is due: the draft does not come back
    page.locator("#tickets-reply").get_by_role("button", name="Send", exact=True).click()
    expect(page.locator("#tickets-thread")).to_contain_text("Sent at once")
    page.wait_for_timeout(1500)
    page.reload()
    expect(page.locator("#tickets-reply").get_by_label("Message")).to_have_value("")


@pytest.fixture(scope="module")
def api_token(base_url) -> str:
    return run_cli(
        "create-token", "--email", "admin@example.com", "--name", "live test", env=SERVER_ENV
    ).strip()


def test_a_ticket_created_through_the_api_appears_in_the_open_queue(page: Page, base_url, api_token):
    page.goto("/queues/open?sort=-id")
    page.get_by_role("link", name="Load more").click()  # rows beyond the first page stay on a refresh
    expect(page.locator("#queues-list .ticket-row")).not_to_have_count(50)
    loaded = page.locator("#queues-list .ticket-row").count()
    page.locator("#queues-list .ticket-row").nth(1).locator("a.ticket-link").focus()
    page.keyboard.press("j")  # select a row: a live refresh must keep it selected
    selected = page.locator("#queues-list .ticket-row.selected a.ticket-link").inner_text()
    page.evaluate("window.notReloaded = true")
    body = {
        "organisationHumanId": "ORG-2001", "contractHumanId": "CON-2001", "tenantHumanId": "1",
        "reporterHumanId": "USR-100", "title": "Live desk: printer on fire", "description": "Smoke",
    }  # fmt: skip
    request = urllib.request.Request(
        f"{base_url}/api/tickets", data=json.dumps(body).encode(), method="POST",
        headers={"Authorization": f"Bearer {api_token}", "Content-Type": "application/json"},
    )  # fmt: skip
    with urllib.request.urlopen(request) as response:  # noqa: S310 - the loopback test server
        created = response.headers["Location"].rsplit("/", 1)[-1]
    row = page.locator("#queues-list .ticket-row", has_text="Live desk: printer on fire")
    expect(row).to_be_visible(timeout=LIVE_MS)
    expect(row.locator("a.ticket-link")).to_have_text(created)
    expect(page.locator("#queues-list .ticket-row.selected a.ticket-link")).to_have_text(selected)
    expect(page.locator("#queues-list .ticket-row.live-flash", has_text="printer on fire")).to_have_count(1)
    expect(page.locator("#queues-list .ticket-row")).to_have_count(loaded + 1)
    assert page.evaluate("window.notReloaded") is True


def test_an_assignment_appears_in_the_assignees_notifications(page: Page, admin_page: Page):
    page.goto("/")
    expect(page.locator("details#notifications-menu")).to_be_visible()
    before = int(page.locator("details#notifications-menu").get_attribute("data-unread"))
    open_ticket(admin_page, "INC-34")
    assignee = admin_page.locator("#tickets-fields").get_by_label("Assignee")
    if assignee.locator("option:checked").inner_text() == "Priya Shah":
        version = admin_page.locator("#tickets-fields input[name=version]").get_attribute("value")
        assignee.select_option(label="Unassigned")
        expect(admin_page.locator("#tickets-fields input[name=version]")).not_to_have_value(version)
    assignee.select_option(label="Priya Shah")
    expect(page.locator("details#notifications-menu")).to_have_attribute(
        "data-unread", str(before + 1), timeout=LIVE_MS
    )


def test_a_page_that_loses_its_stream_says_so_and_catches_up(page: Page, admin_page: Page):
    open_ticket(page, "INC-35")
    page.context.set_offline(True)
    page.evaluate("document.getElementById('live-stream')._htmx.sse.reader.cancel()")  # the stream drops
    expect(page.locator("#live-status")).to_be_visible()
    expect(page.locator("#live-status")).to_have_text("Live updates paused: reconnecting…")
    open_ticket(admin_page, "INC-35")
    post_comment(admin_page, "Written while Priya was offline")
    page.context.set_offline(False)
    expect(page.locator("#live-status")).to_be_hidden(timeout=10000)  # reconnection backs off
    expect(page.locator("#tickets-thread")).to_contain_text("Written while Priya was offline")
    assert page.evaluate("window.notReloaded") is True
