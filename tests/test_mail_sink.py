"""The development mail sink `make run` starts, and the address `make run` puts in links."""

import io
import subprocess
from pathlib import Path

from aiosmtpd.controller import Controller

from helpdesk.mail_sink import PrintingHandler
from helpdesk.models import OutboxEmail
from helpdesk.services import contacts, outbox, tickets
from tests.factories import make_agent, make_ticket
from tests.pgserver import free_port

ROOT = Path(__file__).resolve().parent.parent


async def test_the_sink_prints_a_real_email_decoded_with_its_links_whole(app):
    """aiosmtpd's Debugging handler printed quoted-printable: links broke across lines at `=`."""
    out, port = io.StringIO(), free_port()
    controller = Controller(PrintingHandler(out), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        agent = await make_agent()
        ticket = await make_ticket(actor=agent, contacts=tickets.Contacts(main_email="ann@acme.example"))
        await contacts.request_confirmation(ticket=ticket, actor=agent, config=app.config)
        config = dict(app.config) | {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": port, "SMTP_TIMEOUT": 5}
        assert await outbox.deliver_due(config) == 2  # ticket received, then the confirm link
    finally:
        controller.stop()
    printed = out.getvalue()
    row = await OutboxEmail.filter(subject__contains="confirm").first()
    link = next(word for word in row.body_text.split() if "/confirm/" in word)
    assert len(link) > 76  # longer than a quoted-printable line: the raw message wraps it
    assert f"\n  {link}\n" in printed and "=\n" not in printed
    assert f"Subject: {row.subject}" in printed and "To: ann@acme.example" in printed
    assert printed.count("---------- email ----------") == 2


def make_run_dry(*variables: str) -> subprocess.CompletedProcess:
    """The commands `make run` would run with these variables, printed, not run."""
    command = ["make", "-n", "run", *variables]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=30)


def test_make_run_sends_links_to_the_port_it_serves():
    """`make run PORT=8101` built confirmation links to port 8000."""
    dry = make_run_dry("PORT=8101")
    assert "HELPDESK_BASE_URL=http://127.0.0.1:8101 " in dry.stdout and "serve --port 8101" in dry.stdout
    assert "-c helpdesk.mail_sink.PrintingHandler" in dry.stdout
    given = make_run_dry("PORT=8101", "BASE_URL=https://desk.example")
    assert "HELPDESK_BASE_URL=https://desk.example " in given.stdout
