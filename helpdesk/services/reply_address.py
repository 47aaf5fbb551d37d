"""The reply address of each ticket (support+INC-123.<signature>@domain): set as Reply-To on the
ticket's emails, so a reply finds its ticket even when the mail client drops the threading headers.

The signature (an HMAC of the ticket's number under SECRET_KEY) means a guessed address for another
ticket matches nothing."""

import hashlib
import hmac
import re
from collections.abc import Mapping
from email.utils import parseaddr
from typing import Any

SIGNATURE_LENGTH = 12
_TAGGED = re.compile(
    r"^(?P<base>[^+@]+)\+INC-(?P<number>[1-9][0-9]{0,9})\.(?P<signature>[0-9a-f]{12})$", re.IGNORECASE
)


def _signature(ticket_id: int, config: Mapping[str, Any]) -> str:
    key = str(config["SECRET_KEY"]).encode()
    return hmac.new(key, f"reply-address:{ticket_id}".encode(), hashlib.sha256).hexdigest()[:SIGNATURE_LENGTH]


def intake_address(config: Mapping[str, Any]) -> str:
    """The address incoming mail is read from (MAIL_IN_ADDRESS), lowercased; "" when intake is off."""
    return parseaddr(str(config.get("MAIL_IN_ADDRESS") or ""))[1].lower()


def reply_address(ticket_id: int, config: Mapping[str, Any]) -> str:
    """The ticket's own reply address; "" when no MAIL_IN_ADDRESS is configured."""
    base = intake_address(config)
    if "@" not in base:
        return ""
    local, _, domain = base.partition("@")
    return f"{local}+INC-{ticket_id}.{_signature(ticket_id, config)}@{domain}"


def ticket_of_address(address: str, config: Mapping[str, Any]) -> int | None:
    """The ticket a genuine reply address names, or None (another address, or a forged signature)."""
    base = intake_address(config)
    local, _, domain = address.lower().partition("@")
    found = _TAGGED.match(local)
    if not found or "@" not in base or f"{found['base']}@{domain}" != base:
        return None
    ticket_id = int(found["number"])
    signature = found["signature"].lower()
    if ticket_id > 2**31 - 1 or not hmac.compare_digest(signature, _signature(ticket_id, config)):
        return None
    return ticket_id
