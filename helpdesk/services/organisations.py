"""The organisation directory: customers and the partners that resell to them (DECISIONS 33)."""

from helpdesk.errors import Forbidden, Invalid
from helpdesk.models import Organisation, User

ROLES = ("customer", "partner")


async def save_organisation(
    *, human_id: str, legal_name: str, name: str, role: str, parent_hid: str | None, actor: User | None
) -> Organisation:
    """Create or update a directory entry. `actor=None` is the command line; otherwise admins only."""
    if actor is not None and not actor.admin:
        raise Forbidden("Only admins manage organisations.")
    parent = None
    if parent_hid:
        parent = await Organisation.get_or_none(human_id=parent_hid)
        if parent is None or parent_hid == human_id:
            raise Invalid("Unknown parent.", {"parent": [f"{parent_hid} is not another organisation"]})
    if role not in ROLES:
        raise Invalid("Unknown role.", {"role": [f"must be one of {', '.join(ROLES)}"]})
    organisation, _ = await Organisation.update_or_create(
        human_id=human_id, defaults={"legal_name": legal_name, "name": name, "role": role, "parent": parent}
    )
    return organisation
