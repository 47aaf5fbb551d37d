"""The customer's link, end to end: an agent asks, the outbox delivers over real SMTP, the CC'd
contact sees only their own address and leaves a note for the agents, the main contact corrects
their phone number in the browser, and the agent's ticket page shows both."""

import re
import time
import uuid
from email.message import EmailMessage

from playwright.sync_api import Page, expect

from tests.browser.conftest import screenshot
from tests.smtp import MailSink

LINK = re.compile(r"https?://\S+/confirm/\S+")


def open_ticket_with_contact(page: Page, address: str, cc: str) -> str:
    """Open a ticket through the new-ticket form with `address` as its main email and `cc` as another."""
    page.goto("/tickets/new")
    fields = {
        "Title": "Confirm my details",
        "Description": "From the link test",
        "Organisation": "ORG-2001",
    }
    fields |= {"Contract ID": "CON-1", "Tenant ID": "1", "Reporter": "USR-100", "Main email": address}
    fields |= {"Phone number": "0113 496 0000", "Additional emails (one a line)": cc}
    for label, value in fields.items():
        page.get_by_label(label, exact=True).fill(value)
    page.get_by_role("button", name="Open ticket").click()
    page.wait_for_url(re.compile(r"/tickets/INC-\d+$"))
    return page.url.rpartition("/")[2]


def wait_for_message(sink: MailSink, address: str, subject: str, seconds: float = 20) -> EmailMessage:
    """The first message to `address` whose subject contains `subject`, waiting at most `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for message in list(sink.messages):
            if message["To"] == address and subject in message["Subject"]:
                return message
        time.sleep(0.2)
    raise AssertionError(f"no '{subject}' email to {address} within {seconds} s")


# Each "On record" label beside its value with room between, and the confirm button apart from
# the list above it and the heading below it (issue 16 item 10: the list and buttons were cramped).
ROOMY = """() => {
  const box = e => e.getBoundingClientRect();
  const dt = document.querySelector('.contact-list dt'), dd = dt.nextElementSibling;
  const button = document.querySelector('button[name=confirm]');
  const list = document.querySelector('.contact-list'), next = button.form.nextElementSibling;
  return {beside: Math.abs(box(dt).top - box(dd).top) < 4, between: box(dd).left - box(dt).right,
          above: box(button).top - box(list).bottom, below: box(next).top - box(button).bottom};
}"""


def assert_roomy_confirmation(page: Page) -> None:
    layout = page.evaluate(ROOMY)
    assert layout["beside"] and layout["between"] >= 12, layout
    assert layout["above"] >= 12 and layout["below"] >= 24, layout


def test_customer_corrects_their_phone_from_the_emailed_link(page: Page, anonymous_page: Page, mail_sink):
    address = f"it-{uuid.uuid4().hex[:8]}@customer.example"
    cc = f"cc-{uuid.uuid4().hex[:8]}@customer.example"
    human_id = open_ticket_with_contact(page, address, cc)
    page.get_by_label("Internal note: agents only").check()
    page.get_by_label("Message").fill("Customer called: their desk number changed, asking them to confirm.")
    page.get_by_role("button", name="Send", exact=True).click()
    expect(page.locator("#tickets-history")).to_contain_text("Internal note")
    page.get_by_role("button", name="Send confirm-contacts email").click()
    contacts = page.locator("#tickets-contacts")
    expect(contacts).to_contain_text("Confirm contacts notification sent.")
    expect(page.locator("#tickets-history")).to_contain_text("asked the contacts to confirm their details")

    message = wait_for_message(mail_sink, address, "please confirm your contact details")
    assert human_id in message["Subject"]
    link = LINK.search(message.get_body(("plain",)).get_content()).group(0)
    expect(page.locator("#tickets-emails")).to_contain_text("Sent", timeout=10_000)

    customer = anonymous_page
    cc_message = wait_for_message(mail_sink, cc, "please confirm your contact details")
    customer.goto(LINK.search(cc_message.get_body(("plain",)).get_content()).group(0))
    expect(customer.locator(".contact-list")).to_contain_text(cc)
    expect(customer.locator("main")).not_to_contain_text(address)
    expect(customer.locator("main")).not_to_contain_text("0113 496 0000")
    expect(customer.get_by_label("Phone number")).to_have_count(0)
    customer.get_by_label("Anything else wrong, for the helpdesk").fill(
        "The main contact is on leave until May."
    )
    customer.get_by_role("button", name="Save corrections").click()
    expect(customer.locator("h1")).to_have_text("Thank you")

    customer.goto(link)
    expect(customer.locator("h1")).to_have_text("Are these your contact details?")
    expect(customer.locator(".contact-list")).to_contain_text(address)
    assert_roomy_confirmation(customer)
    screenshot(customer, "confirm-contacts")
    customer.get_by_label("Phone number").fill("+44 7700 900123")
    customer.get_by_role("button", name="Save corrections").click()
    expect(customer.locator("h1")).to_have_text("Thank you")
    expect(customer.locator("main")).to_contain_text(human_id)

    page.reload()
    proposal = contacts.locator(".proposals li", has_text=cc)
    expect(proposal).to_contain_text("The main contact is on leave until May.")
    proposal.get_by_role("button", name="Dismiss").click()
    expect(contacts).to_contain_text("Proposal dismissed.")
    expect(contacts.locator(".proposals")).to_have_count(0)
    expect(page.locator("#tickets-history")).to_contain_text("dismissed the proposal")
    expect(contacts.locator(".confirmations li", has_text=address)).to_contain_text("Confirmed")
    expect(contacts).to_contain_text("+44 7700 900123")
    change = page.locator("#tickets-history li", has_text="Phone number")
    expect(change).to_contain_text(address)
    expect(change).to_contain_text("+44 7700 900123")
    expect(page.locator("#tickets-history")).to_contain_text("confirmed the contact details")
    screenshot(page, "ticket")

    customer.goto(link)
    expect(customer.locator("h1")).to_have_text("This link has already been used")
