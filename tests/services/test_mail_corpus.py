"""Every message shape in tests/mail_corpus/ is processed or refused with a reason, never a crash;
what the agent reads is plain text (no markup of the email's survives), quotes trimmed."""

import json
import re
from pathlib import Path

import pytest

from helpdesk.models import Comment, InboundEmail, InboundStatus, Ticket
from helpdesk.services import mail_intake
from helpdesk.services.mail_parse import html_to_text, parse, trim_reply
from helpdesk.services.tickets import Contacts
from tests.factories import make_organisation, make_ticket

CORPUS = Path(__file__).parent.parent / "mail_corpus"
FILES = sorted(CORPUS.glob("*.eml"))
# What the comment or the new ticket's description says, for the shapes where it matters.
TEXTS = {
    "multipart_alternative.eml": "Plain version wins.",
    "html_only.eml": "Hello & welcome\nLine two link <https://example.org/x>",
    "quoted_printable.eml": "Café au lait, a long line that is soft-wrapped here.",
    "base64_latin1.eml": "Le téléphone ne marche plus.",
    "outlook_quote.eml": "It works again – thanks.\n\nPat",
    "gmail_quote.eml": "Yes, that fixed it.",
    "inline_image.eml": "Screenshot:",
}
MARKUP = re.compile(r"<\s*/?\s*(script|style|p|div|b|img|a|html|body|blockquote)\b", re.IGNORECASE)
REFUSED = {"no_from.eml": "no From address"}


@pytest.fixture
def config(app) -> dict:
    return dict(app.config) | {"MAIL_FROM": "helpdesk@example.com", "MAIL_IN_ADDRESS": "support@example.com"}


@pytest.mark.parametrize("path", FILES, ids=[path.name for path in FILES])
async def test_each_shape_is_processed_or_refused_with_a_reason(path: Path, config):
    await make_organisation()
    await make_ticket(contacts=Contacts(main_email="pat@customer.example"))  # INC-1
    await mail_intake.store(path.read_bytes(), via="lmtp")
    await mail_intake.process_due(config)
    stored = await InboundEmail.get()
    assert stored.last_error == "" and stored.outcome
    if path.name in REFUSED:
        assert stored.status == InboundStatus.REFUSED and REFUSED[path.name] in stored.outcome
        return
    assert stored.status == InboundStatus.DONE, stored.outcome
    comment = await Comment.filter(id=stored.comment_id).first() if stored.comment_id else None
    text = comment.body if comment else (await Ticket.get(id=stored.ticket_id)).description
    assert not MARKUP.search(text) and "alert" not in text
    if path.name in TEXTS:
        assert text == TEXTS[path.name]


def test_rfc2047_subjects_and_rfc2231_filenames_are_decoded():
    mail = parse((CORPUS / "rfc2047_subject_and_filename.eml").read_bytes())
    assert mail.subject == "日本語の件名"
    assert [(a.filename, a.content_type) for a in mail.attachments] == [("résumé.pdf", "application/pdf")]


def test_inline_images_are_kept_as_inline_attachments():
    mail = parse((CORPUS / "inline_image.eml").read_bytes())
    assert [(a.filename, a.inline, a.content_type) for a in mail.attachments] == [
        ("shot.png", True, "image/png")
    ]


async def test_the_attachments_are_recorded_on_the_stored_message(config):
    await make_organisation()
    await make_ticket(contacts=Contacts(main_email="pat@customer.example"))
    await mail_intake.store((CORPUS / "rfc2047_subject_and_filename.eml").read_bytes(), via="lmtp")
    await mail_intake.process_due(config)
    recorded = json.loads((await InboundEmail.get()).attachments)
    assert [(a["filename"], a["size"]) for a in recorded] == [("résumé.pdf", 19)]


@pytest.mark.parametrize(
    "headers",
    [b"Return-Path: <>\r\nFrom: pat@customer.example\r\n", b"From: MAILER-DAEMON@mx.example\r\n"],
)
def test_bounces_that_are_not_delivery_status_reports_are_still_machine_mail(headers):
    """Old-style bounces (no RFC 3464 report): never answered, whatever the unknown-sender policy."""
    mail = parse(headers + b"Subject: failure notice\r\n\r\nSorry, I couldn't deliver it.\r\n")
    assert mail.automatic and mail.bounce is None


def test_html_becomes_text_without_any_markup():
    html = '<p>One</p><script>x()</script><blockquote>quoted</blockquote><p onclick="y">Two &lt;b&gt;</p>'
    assert html_to_text(html) == "One\n> quoted\nTwo <b>"


def test_trimming_keeps_the_new_text_and_falls_back_to_the_whole():
    assert trim_reply("New\n\n-- \nPat, ACME") == "New"
    assert trim_reply("> only a quote") == "> only a quote"
