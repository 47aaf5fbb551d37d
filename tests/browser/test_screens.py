"""What an agent sees and clicks: the queue, active search, the ticket page's live panels."""

import re

from playwright.sync_api import Page, expect

from tests.browser.conftest import screenshot

SETTLED = "() => { window.settled = new Promise(r => document.addEventListener('htmx:after:settle', r)); }"


def open_first_ticket(page: Page) -> str:
    page.goto("/queues/open")
    link = page.locator("#queues-list a.ticket-link").first
    human_id = link.inner_text()
    link.click()
    page.wait_for_url(re.compile(f"/tickets/{human_id}$"))
    return human_id


def test_queue_keyboard_shortcuts(page: Page):
    page.goto("/queues/open")
    expect(page).to_have_title("All open · Helpdesk")
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("k")
    first = page.locator("#queues-list .ticket-row").first
    expect(first).to_have_class(re.compile("selected"))
    human_id = first.locator("a.ticket-link").inner_text()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(f"/tickets/{human_id}$"))
    page.go_back()
    # Back on the queue, its deferred script listens only once the page has loaded: a key pressed
    # before that is lost (this failed under load in CI).
    page.wait_for_url(re.compile("/queues/open$"))
    page.wait_for_load_state("load")
    expect(page.locator("#queues-list .ticket-row").first).to_be_visible()
    page.keyboard.press("/")
    expect(page.locator("#q")).to_be_focused()
    page.locator("body").click()
    page.keyboard.press("?")
    expect(page.locator("#shortcuts")).to_be_visible()


def test_active_search_replaces_only_the_list(page: Page):
    page.goto("/queues/open")
    page.evaluate("window.notReloaded = true")
    before = page.locator("#queues-list .ticket-row").count()
    page.locator("#q").fill("zzzz-no-such-words")
    expect(page.locator("#queues-list")).to_contain_text("No tickets match.")
    assert page.evaluate("window.notReloaded") is True
    assert "q=zzzz-no-such-words" in page.url
    page.locator("#q").fill("")
    expect(page.locator("#queues-list .ticket-row")).to_have_count(before)


def test_load_more_appends_rows(page: Page):
    page.goto("/queues/open?sort=id")
    rows = page.locator("#queues-list .ticket-row")
    count = rows.count()
    assert count == 50, "the browser tests' demo data must fill more than one page of open tickets"
    page.get_by_role("link", name="Load more").click()
    expect(rows).not_to_have_count(count)


def test_a_select_saves_on_change_and_the_history_follows(page: Page):
    open_first_ticket(page)
    page.evaluate("window.notReloaded = true")
    select = page.get_by_label("Priority", exact=True)
    current = select.input_value()
    options = [o for o in select.locator("option").evaluate_all("els => els.map(e => e.value)") if o]
    select.select_option(next(o for o in options if o != current))
    expect(page.locator("#tickets-fields")).to_contain_text("Saved.")
    expect(page.locator("#tickets-history")).to_contain_text("changed Priority")
    assert page.evaluate("window.notReloaded") is True


def test_a_concurrent_change_shows_a_conflict_in_place(page: Page):
    human_id = open_first_ticket(page)
    other = page.context.new_page()
    other.goto(f"/tickets/{human_id}")
    for tab in (other, page):
        select = tab.get_by_label("Stage", exact=True)
        values = [v for v in select.locator("option").evaluate_all("els => els.map(e => e.value)") if v]
        select.select_option(next(v for v in values if v != select.input_value()))
    expect(other.locator("#tickets-fields")).to_contain_text("Saved.")
    expect(page.locator("#tickets-fields [role=alert]")).to_contain_text("changed by someone else")
    other.close()


def test_reply_and_internal_note_appear_without_reload(page: Page):
    open_first_ticket(page)
    page.evaluate("window.notReloaded = true")
    page.get_by_label("Message").fill("<b>first</b>\nsecond line")
    page.get_by_role("button", name="Send", exact=True).click()
    thread = page.locator("#tickets-thread")
    expect(thread).to_contain_text("<b>first</b>")
    expect(page.get_by_label("Message")).to_have_value("")
    page.get_by_label("Internal note: agents only").check()
    page.get_by_label("Message").fill("only for us")
    page.get_by_role("button", name="Send", exact=True).click()
    expect(thread.locator(".comment.internal").last).to_contain_text("only for us")
    assert page.evaluate("window.notReloaded") is True


def test_new_ticket_shows_errors_inline_then_opens_the_ticket(page: Page):
    page.goto("/tickets/new")
    page.get_by_role("button", name="Open ticket").click()
    expect(page.locator("#tickets-new")).to_contain_text("This field is required.")
    fields = {"Title": "Browser-made", "Description": "From a test", "Organisation": "Acme"}
    fields |= {"Contract ID": "CON-1", "Tenant ID": "1", "Reporter": "USR-100"}
    for label, value in fields.items():
        page.get_by_label(label, exact=True).fill(value)
    page.get_by_role("button", name="Open ticket").click()
    page.wait_for_url(re.compile(r"/tickets/INC-\d+$"))
    expect(page.locator("h1")).to_have_text("Browser-made")


def test_phone_width_has_no_horizontal_scroll(page: Page):
    page.set_viewport_size({"width": 390, "height": 800})
    for path in ("/queues/open", "/tickets/new"):
        page.goto(path)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), path


def test_back_after_htmx_navigation_restores_the_whole_page(page: Page):
    page.goto("/queues/open")
    # The menu fetches its counts once the page is up; let that swap settle first, so the next
    # settle awaited below is the search's.
    expect(page.locator("#queues-nav .count").first).to_be_visible()
    page.evaluate(SETTLED)
    page.locator("#q").fill("zzzz-no-such-words")
    page.evaluate("window.settled.then(() => true)")  # the new list is wired up only once htmx has settled it
    page.evaluate("window.notReloaded = true")
    page.locator("#queues-list th a", has_text="Updated").click()
    expect(page).to_have_url(re.compile("sort=dateUpdated"))
    page.go_back()
    expect(page).to_have_url(re.compile("q=zzzz-no-such-words"))
    expect(page.locator("nav.queue-nav")).to_have_count(1)
    expect(page.locator("#queues-list")).to_have_count(1)
    expect(page.locator("#queues-list")).to_contain_text("No tickets match.")


def test_screenshots_of_the_main_screens(page: Page, admin_page: Page, anonymous_page: Page):
    anonymous_page.goto("/login")
    expect(anonymous_page.get_by_role("button", name="Sign in")).to_be_visible()
    screenshot(anonymous_page, "sign-in")
    page.goto("/queues/open")
    expect(page.locator("#queues-list .ticket-row").first).to_be_visible()
    screenshot(page, "queue")
    page.goto("/tickets/new")
    screenshot(page, "new-ticket")
    admin_page.goto("/admin/users")
    expect(admin_page.locator("main")).to_contain_text("priya@example.com")
    screenshot(admin_page, "admin-users")


def test_organisation_filter_suggests_names_and_takes_one(page: Page):
    """The filter took only an ID: typing "Acme" showed nothing."""
    page.goto("/queues/open")
    page.evaluate("window.notReloaded = true")
    page.locator("#f-organisation").press_sequentially("acm")
    expect(page.locator("#queues-organisations option[value='Acme']")).to_have_count(1)
    page.locator("#f-organisation").fill("Acme")
    page.locator("#f-organisation").press("Enter")
    expect(page).to_have_url(re.compile(r"organisation=Acme"))
    rows = page.locator("#queues-list .ticket-row")
    expect(rows.first).to_be_visible()
    organisations = rows.locator("td.organisation").all_inner_texts()
    assert organisations and set(organisations) == {"Acme"}
    expect(page.locator("#queues-list .list-summary")).to_contain_text("match the filters")
    assert page.evaluate("window.notReloaded") is True
    page.locator("#queues-list a.clear-filters").click()
    expect(page).to_have_url(re.compile(r"/queues/open$"))
