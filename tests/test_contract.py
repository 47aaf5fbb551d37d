"""The repository carries its own API contract: the blueprint and the notes live in docs/."""

import hashlib

from helpdesk.config import PROJECT_ROOT

BLUEPRINT = PROJECT_ROOT / "docs" / "api" / "tickets.apib"
NOTES = PROJECT_ROOT / "docs" / "api.md"
# Where the contract was specified, a folder beside the checkout holds the reference copy in
# spec/tickets.apib. A clone on its own has no such folder, and needs none.
REFERENCE_COPIES = sorted(PROJECT_ROOT.parent.glob("*/spec/tickets.apib"))
# The copy as taken: a change to the contract changes this digest in the same commit, on purpose.
BLUEPRINT_SHA256 = "c08461e60d23845cd15dc44b52edd56d626fb2e112c847878316df44fcfea9a4"


def test_the_contract_and_its_notes_are_in_the_repository():
    assert BLUEPRINT.read_text(encoding="utf-8").startswith("FORMAT: 1A")
    notes = NOTES.read_text(encoding="utf-8")
    for topic in ("Envelope", "Errors", "Roles", "Pagination", "Dates", "Idempotency"):
        assert f"## {topic}" in notes, topic


def test_the_blueprint_is_the_copy_taken_and_matches_every_reference_beside_it():
    """The copy is the blueprint as taken (its digest is recorded here, so an edit to it fails);
    where a folder beside the checkout holds the reference copy, that one matches byte for byte.
    A clone on its own checks the digest alone, and skips nothing."""
    assert hashlib.sha256(BLUEPRINT.read_bytes()).hexdigest() == BLUEPRINT_SHA256
    for reference in REFERENCE_COPIES:
        assert BLUEPRINT.read_bytes() == reference.read_bytes(), f"the copy differs from {reference}"
