"""Files through the reply form in a real browser: chosen in the file field, uploaded with the
script's progress bar, then listed in the thread with a thumbnail and downloadable."""

import re

from playwright.sync_api import Page, expect

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c63606060f80f0000"
    "0401010018dd8db40000000049454e44ae426082"
)


def test_a_reply_carries_files_into_the_thread(page: Page):
    page.goto("/queues/open")
    link = page.locator("#queues-list a.ticket-link").first
    human_id = link.inner_text()
    link.click()
    page.wait_for_url(re.compile(f"/tickets/{human_id}$"))
    page.get_by_label("Message").fill("Here is the screenshot and the log")
    page.get_by_label("Files").set_input_files(
        [
            {"name": "screen.png", "mimeType": "image/png", "buffer": PNG},
            {"name": "router.log", "mimeType": "text/plain", "buffer": b"link down at 09:00\n"},
        ]
    )
    page.get_by_role("button", name="Send", exact=True).click()
    page.wait_for_url(re.compile(f"/tickets/{human_id}"))
    comment = page.locator("#tickets-thread .comment").filter(has_text="Here is the screenshot").last
    expect(comment.locator(".attachment")).to_have_count(2)
    expect(comment).to_contain_text("router.log")
    expect(comment).to_contain_text("19 bytes")
    thumbnail = comment.locator(".thumbnail img")
    expect(thumbnail).to_have_count(1)
    assert page.evaluate("img => img.complete && img.naturalWidth", thumbnail.element_handle()) == 1
    with page.expect_download() as download:
        comment.get_by_role("link", name="router.log").click()
    assert download.value.suggested_filename == "router.log"
