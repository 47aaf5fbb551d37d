"""Browser tests: Chromium driven by Playwright against a live `helpdesk serve` with demo data.

They run in their own pytest invocation (`make test-browser`, which sets HELPDESK_BROWSER_TESTS=1 and
passes `-p no:asyncio --confcutdir=tests/browser`): the sync Playwright API and pytest-asyncio's loop do
not mix in one run, so the main run skips collecting them and this run skips the async root conftest."""

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.liveserver import run_cli, serving
from tests.pgserver import free_port
from tests.smtp import MailSink

if os.environ.get("HELPDESK_BROWSER_TESTS") != "1":
    collect_ignore_glob = ["test_*.py"]

CHROMIUM = os.environ.get("HELPDESK_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DEMO_PASSWORD = "demo-password"  # noqa: S105 - the demo data's documented password
# Each run saves every main screen here (not committed); `make screenshots` copies them to
# test-output/screenshots/, the committed copies the README shows.
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "browser"
SERVER_ENV: dict[str, str] = {}  # the live server's environment, for tests that run the CLI on its database


@pytest.fixture(scope="session")
def mail_sink() -> Iterator[MailSink]:
    """A real SMTP server in this process: the live server's outbox worker delivers to it."""
    sink = MailSink().start()
    yield sink
    sink.stop()


@pytest.fixture(scope="session")
def base_url(tmp_path_factory, mail_sink: MailSink) -> Iterator[str]:
    """A migrated database with the demo people and tickets, served on a free loopback port, its
    outbox worker running inside the server and sending to `mail_sink`."""
    port = free_port()
    env = os.environ | {
        "HELPDESK_ENV": "test",
        "HELPDESK_DATABASE_URL": f"sqlite://{tmp_path_factory.mktemp('db') / 'helpdesk.sqlite3'}",
        "HELPDESK_BASE_URL": f"http://127.0.0.1:{port}",
        "HELPDESK_WORKER_IN_PROCESS": "true",
        "HELPDESK_SMTP_HOST": "127.0.0.1",
        "HELPDESK_SMTP_PORT": str(mail_sink.port),
        "HELPDESK_ATTACHMENTS_DIR": str(tmp_path_factory.mktemp("attachments")),
    }
    SERVER_ENV.update(env)
    run_cli("migrate", env=env)
    run_cli("seed-demo", "--tickets", "400", env=env)
    with serving(port=port, env=env, log_path=tmp_path_factory.mktemp("browser") / "server.log") as url:
        yield url


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@contextmanager
def _fresh_page(browser, base_url: str, as_user: str | None = None) -> Iterator:
    """A page in a browser context of its own (no cookies), signed in as `as_user` when given."""
    context = browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(5000)
    page = context.new_page()
    if as_user:
        sign_in(page, as_user)
    try:
        yield page
    finally:
        context.close()


def sign_in(page, email: str) -> None:
    """Sign in through the real form and wait for the home page."""
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"^https?://[^/]+/$"))


@pytest.fixture
def anonymous_page(browser, base_url):
    """A fresh browser context: no cookies, nobody signed in."""
    with _fresh_page(browser, base_url) as page:
        yield page


@pytest.fixture
def page(browser, base_url):
    """A fresh browser context signed in as the demo agent."""
    with _fresh_page(browser, base_url, "priya@example.com") as page:
        yield page


@pytest.fixture
def admin_page(browser, base_url):
    """A fresh browser context signed in as the demo admin."""
    with _fresh_page(browser, base_url, "admin@example.com") as page:
        yield page


def settle(page) -> None:
    """Wait until the page has loaded what it shows. A signed-in page keeps its live stream open, so
    it is never network-idle: it has settled once its stream is open (static/live.js) and no other
    request is pending; a page without a stream waits for the network to go quiet."""
    from playwright.sync_api import expect

    if page.locator("#live-stream").count():
        page.wait_for_function("window.Live && window.Live.open")
        # A locator, not a page function: a function that must poll is evaluated as a string, which
        # the pages' Content-Security-Policy refuses (a panel that loads itself is still in flight).
        expect(page.locator(".htmx-request")).to_have_count(0)
    else:
        page.wait_for_load_state("networkidle")


def screenshot(page, screen: str) -> Path:
    """Save what the page shows as test-output/browser/<screen>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{screen}.png"
    page.screenshot(path=path, full_page=True)
    return path
