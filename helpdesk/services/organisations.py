"""The organisation directory: customers and the partners that resell to them (DECISIONS 33)."""

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from helpdesk.errors import Forbidden, Invalid
from helpdesk.models import Organisation, User
from helpdesk.services import feed

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
    async with in_transaction():
        values = {"legal_name": legal_name, "name": name, "role": role, "parent": parent}
        organisation, _ = await Organisation.update_or_create(human_id=human_id, defaults=values)
        await feed.publish("catalogue.changed", actor=actor, data={"what": "organisations"})
    return organisation


SUGGESTIONS = 10


async def suggest_organisations(*, text: str, actor: User, limit: int = SUGGESTIONS) -> list[Organisation]:
    """Directory entries whose name, legal name or ID contains the text, by name (agents only)."""
    if not actor.is_staff:
        raise Forbidden("Only agents browse the organisation directory.")
    wanted = text.strip()
    if not wanted:
        return []
    match = Q(name__icontains=wanted) | Q(legal_name__icontains=wanted) | Q(human_id__icontains=wanted)
    return await Organisation.filter(match).order_by("name", "human_id").limit(limit)


async def organisation_filter(*, text: str, actor: User) -> str:
    """The organisation ID a filter box means: an ID as typed, else the one organisation whose name
    or legal name is the text (any case) or, failing that, the only one containing it. Anything
    else is kept as typed, an ID that matches no ticket."""
    wanted = text.strip()
    if not actor.is_staff or await Organisation.exists(human_id=wanted):
        return wanted
    for match in (Q(name__iexact=wanted) | Q(legal_name__iexact=wanted), Q(name__icontains=wanted)):
        found = await Organisation.filter(match).limit(2).values_list("human_id", flat=True)
        if len(found) == 1:
            return found[0]
    return wanted
