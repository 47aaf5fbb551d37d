"""The organisation directory: customers and the partners that resell to them (DECISIONS 33)."""

from dataclasses import dataclass
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from helpdesk.errors import Conflict, Forbidden, Invalid, NotFound
from helpdesk.models import Organisation, Ticket, User
from helpdesk.services import feed

ROLES = ("customer", "partner")


async def save_organisation(
    *,
    human_id: str,
    legal_name: str,
    name: str,
    role: str,
    parent_hid: str | None,
    actor: User | None,
    default_contract_hid: str | None = None,
    default_tenant_hid: str | None = None,
) -> Organisation:
    """Create or update a directory entry, with the contract and tenant its customers' web tickets
    are filed under. `actor=None` is the command line; otherwise admins only."""
    _ensure_admin(actor)
    values = {"legal_name": legal_name, "name": name, "role": role, "parent_hid": parent_hid} | {
        "default_contract_hid": default_contract_hid,
        "default_tenant_hid": default_tenant_hid,
    }
    defaults = await _checked(human_id, values)
    async with in_transaction():
        organisation, _ = await Organisation.update_or_create(human_id=human_id, defaults=defaults)
        await feed.publish("catalogue.changed", actor=actor, data={"what": "organisations"})
    return organisation


async def get_organisation(*, human_id: str, actor: User) -> Organisation:
    """One directory entry by its ID, partner loaded (admins only), or NotFound."""
    _ensure_admin(actor)
    known = len(human_id) <= 64 and "\x00" not in human_id  # what no column holds names nothing
    organisation = (
        await Organisation.get_or_none(human_id=human_id).select_related("parent") if known else None
    )
    if organisation is None:
        raise NotFound(f"No organisation {human_id}.")
    return organisation


async def create_organisation(*, human_id: str, values: dict[str, Any], actor: User) -> Organisation:
    """A new directory entry (admins only); an ID already in the directory is a Conflict. `values`
    holds name, legal_name, role and, optionally, parent_hid, default_contract_hid, default_tenant_hid."""
    _ensure_admin(actor)
    checked = await _checked(human_id, values)
    try:
        async with in_transaction():
            organisation = await Organisation.create(human_id=human_id, **checked)
            await feed.publish("catalogue.changed", actor=actor, data={"what": "organisations"})
    except IntegrityError as exc:
        raise Conflict(f"The directory already has {human_id}.") from exc
    return organisation


async def update_organisation(*, human_id: str, changes: dict[str, Any], actor: User) -> Organisation:
    """Change only the given fields of a directory entry (admins only); its ID never changes
    (tickets name it)."""
    organisation = await get_organisation(human_id=human_id, actor=actor)
    current = {
        "legal_name": organisation.legal_name, "name": organisation.name, "role": organisation.role,
        "parent_hid": organisation.parent.human_id if organisation.parent else None,
        "default_contract_hid": organisation.default_contract_hid,
        "default_tenant_hid": organisation.default_tenant_hid,
    }  # fmt: skip
    checked = await _checked(human_id, current | changes)
    async with in_transaction():
        await organisation.update_from_dict(checked).save()
        await feed.publish("catalogue.changed", actor=actor, data={"what": "organisations"})
    return organisation


def _ensure_admin(actor: User | None) -> None:
    """`None` is the command line; any other actor must be an admin."""
    if actor is not None and not actor.admin:
        raise Forbidden("Only admins manage organisations.")


async def _checked(human_id: str, values: dict[str, Any]) -> dict[str, Any]:
    """The columns of a directory entry from what was given: a known role, and a partner that is
    another organisation and not one of this one's own customers (no loop of partners)."""
    role, parent_hid = values["role"], values.get("parent_hid") or None
    if role not in ROLES:
        raise Invalid("Unknown role.", {"role": [f"must be one of {', '.join(ROLES)}"]})
    parent = await Organisation.get_or_none(human_id=parent_hid) if parent_hid else None
    if parent_hid and parent is None:
        raise Invalid("Unknown parent.", {"parent": [f"{parent_hid} is not another organisation"]})
    if parent is not None and await _above(parent, human_id):
        why = f"{parent_hid} is {human_id} itself or one of its customers"
        raise Invalid(f"Not a partner: {why}.", {"parent": [why]})
    return {"legal_name": values["legal_name"], "name": values["name"], "role": role, "parent": parent} | {
        "default_contract_hid": values.get("default_contract_hid") or None,
        "default_tenant_hid": values.get("default_tenant_hid") or None,
    }


async def _above(parent: Organisation, human_id: str) -> bool:
    """Whether `human_id` is the partner or one of the partners up the chain from `parent`."""
    seen, current = set(), parent
    while current is not None and current.id not in seen:
        if current.human_id == human_id:
            return True
        seen.add(current.id)
        current = await Organisation.get_or_none(id=current.parent_id) if current.parent_id else None
    return False


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


async def customer_ticket_defaults(*, actor: User) -> tuple[str, str]:
    """The contract and tenant a customer's web ticket is filed under: their organisation's defaults.
    Until an admin sets them the customer cannot file on the web, and is told whom to ask."""
    organisation = await Organisation.get_or_none(human_id=actor.organisation_hid or "")
    if organisation is None or not (organisation.default_contract_hid and organisation.default_tenant_hid):
        raise Invalid(
            "Your organisation's contract is not on record yet, so the helpdesk cannot file this "
            "ticket. Ask your helpdesk to add it (Admin → Organisations), or email them."
        )
    return organisation.default_contract_hid, organisation.default_tenant_hid


@dataclass(frozen=True)
class Parties:
    """Whom an agent's new ticket is for: the organisation's and the reporter's IDs."""

    organisation_hid: str
    reporter_hid: str


async def ticket_parties(*, organisation: str, reporter: str, actor: User, unknown_ok: bool) -> Parties:
    """The organisation (an ID, or a name or legal name, from the directory) and reporter (an ID, or
    the name or email of one of its users) an agent's new ticket names. One the directory does not
    know is refused with a warning unless the agent said to file it anyway (`unknown_ok`)."""
    if not actor.is_staff:
        raise Forbidden("Only agents file tickets for other organisations.")
    organisation_hid = await _directory_id(organisation)
    reporter_hid = await _reporter_id(organisation_hid or organisation, reporter)
    unknown = {}
    if organisation_hid is None:
        unknown["organisation"] = [f"{organisation} is not in the directory: pick one from the suggestions"]
    if reporter_hid is None:
        unknown["reporter"] = [f"{reporter} is neither a user of this organisation nor an earlier reporter"]
    if unknown and not unknown_ok:
        raise Invalid(
            "The directory does not know the " + " or the ".join(unknown) + ". Check the form, or tick "
            "“File it anyway” to file the ticket as it is.",
            unknown | {"unknown_ok": ["Tick to file the ticket as it is."]},
        )
    return Parties(organisation_hid or organisation, reporter_hid or reporter)


async def _directory_id(text: str) -> str | None:
    """The organisation an ID, a name or a legal name (any case) names alone; None otherwise."""
    if await Organisation.exists(human_id=text):
        return text
    found = await Organisation.filter(Q(name__iexact=text) | Q(legal_name__iexact=text)).limit(2)
    return found[0].human_id if len(found) == 1 else None


async def _reporter_id(organisation_hid: str, text: str) -> str | None:
    """The reporter ID the text names among the organisation's users (ID, name or email) or the
    reporters of its earlier tickets; None if it names none of them alone."""
    users = User.filter(organisation_hid=organisation_hid, human_id__not_isnull=True)
    found = await users.filter(Q(human_id=text) | Q(name__iexact=text) | Q(email__iexact=text)).limit(2)
    if len(found) == 1:
        return found[0].human_id
    if not found and await Ticket.exists(organisation_hid=organisation_hid, reporter_hid=text):
        return text
    return None


@dataclass(frozen=True)
class Reporter:
    """A suggestion for a new ticket's reporter: the ID it files, and who that is."""

    human_id: str
    label: str


async def suggest_reporters(
    *, organisation: str, text: str, actor: User, limit: int = SUGGESTIONS
) -> list[Reporter]:
    """The organisation's users (then the reporters of its earlier tickets) whose ID, name or email
    contains the text, for an agent's new ticket; all of them, up to `limit`, for no text."""
    if not actor.is_staff:
        raise Forbidden("Only agents browse an organisation's people.")
    organisation_hid = await _directory_id(organisation.strip()) or organisation.strip()
    wanted = text.strip()
    users = User.filter(organisation_hid=organisation_hid, active=True, human_id__not_isnull=True)
    if wanted:
        users = users.filter(
            Q(human_id__icontains=wanted) | Q(name__icontains=wanted) | Q(email__icontains=wanted)
        )
    found = [
        Reporter(u.human_id, f"{u.name} · {u.email}") for u in await users.order_by("name", "id").limit(limit)
    ]
    earlier = Ticket.filter(organisation_hid=organisation_hid, reporter_hid__icontains=wanted)
    known = {r.human_id for r in found}
    more = (
        await earlier.distinct().order_by("reporter_hid").limit(limit).values_list("reporter_hid", flat=True)
    )
    found += [Reporter(hid, "reported earlier tickets") for hid in more if hid not in known]
    return found[:limit]
