"""openapi-python-client builds a client from /api/openapi.json: it works, its errors parse too."""

import importlib
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

GENERATOR = Path(sys.executable).with_name("openapi-python-client")
PACKAGE = "helpdesk_generated_client"
TICKET = {
    "organisation_human_id": "ORG-12333",
    "contract_human_id": "CON-1",
    "tenant_human_id": "TEN-1",
    "reporter_human_id": "USR-12453",
    "description": "Generated clients can open tickets",
}


@pytest.fixture(scope="module")
def generated(live_server, tmp_path_factory):
    """Generate the client into a temporary folder (no post-hooks: nothing outside the venv is needed)."""
    folder = tmp_path_factory.mktemp("client")
    document = folder / "openapi.json"
    document.write_bytes(httpx.get(f"{live_server.base_url}/api/openapi.json").content)
    config = folder / "config.yaml"
    config.write_text("post_hooks: []\n")
    result = subprocess.run(
        [str(GENERATOR), "generate", "--path", str(document), "--output-path", str(folder / PACKAGE),
         "--meta", "none", "--config", str(config)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    sys.path.insert(0, str(folder))
    try:
        yield output, lambda name: importlib.import_module(f"{PACKAGE}.{name}")
    finally:
        sys.path.remove(str(folder))
        for name in [name for name in sys.modules if name.startswith(PACKAGE)]:
            del sys.modules[name]


def test_the_generator_reads_every_operation_and_schema_without_a_warning(generated):
    output, module = generated
    assert "WARNING" not in output, output
    assert module("api.tickets.create_ticket").sync_detailed
    assert module("api.users.get_logged_in_user").sync
    assert module("api.catalogue.list_states").sync
    assert module("api.reporting.report_json").sync
    assert module("api.events.confirm_contacts").sync_detailed


def test_a_generated_client_creates_reads_and_parses_errors(generated, live_server):
    _, module = generated
    models = module("models")
    create_ticket, get_ticket = module("api.tickets.create_ticket"), module("api.tickets.get_ticket")
    client = module("client").AuthenticatedClient(base_url=live_server.base_url, token=live_server.token)

    created = create_ticket.sync_detailed(client=client, body=models.TicketCreate(**TICKET))
    assert created.status_code == 201
    ticket_id = created.headers["Location"]
    [ticket] = get_ticket.sync(client=client, ticket_id=ticket_id).data
    assert (ticket.id, ticket.description, ticket.consumer.attributes.name) == (
        ticket_id, TICKET["description"], "Acme"
    )  # fmt: skip

    missing = get_ticket.sync(client=client, ticket_id="INC-0")
    assert isinstance(missing, models.ErrorOut) and missing.title == "Not Found"

    blank = models.TicketCreate(**TICKET | {"description": ""})
    invalid = create_ticket.sync_detailed(client=client, body=blank)
    assert invalid.status_code == 422 and isinstance(invalid.parsed, models.ErrorOut)
    assert list(invalid.parsed.errors.additional_properties) == ["description"]
