"""Reference data every helpdesk starts with: the state catalogue and a default group."""

from tortoise.transactions import in_transaction

from helpdesk.models import Group, State, StateKind

DEFAULT_GROUP = "Service Desk"

# (kind, description, closes) in display order.
DEFAULT_CATALOGUE: list[tuple[StateKind, str, bool]] = [
    (StateKind.STATE, "New", False),
    (StateKind.STATE, "Open", False),
    (StateKind.STATE, "Pending", False),
    (StateKind.STATE, "Resolved", True),
    (StateKind.STATE, "Closed", True),
    (StateKind.TYPE, "Default", False),
    (StateKind.TYPE, "Incident", False),
    (StateKind.TYPE, "Service Request", False),
    (StateKind.TYPE, "Change", False),
    *[(StateKind.PRIORITY, f"P{n} - Priority {n}", False) for n in range(1, 6)],
    (StateKind.STAGE, "Provisioning", False),
    (StateKind.STAGE, "Service Outage", False),
    (StateKind.STAGE, "Degraded Service", False),
    (StateKind.STAGE, "No Impact", False),
    (StateKind.OUTCOME, "Phone", False),
    (StateKind.OUTCOME, "Email", False),
    (StateKind.OUTCOME, "Remote Fix", False),
    (StateKind.OUTCOME, "Engineer Visit", False),
    (StateKind.OUTCOME, "No Fault Found", False),
]


async def load_reference_data() -> int:
    """Add the default catalogue and group where missing; returns how many rows were added."""
    added = 0
    async with in_transaction():
        if not await State.exists():
            kinds = [kind for kind, _, _ in DEFAULT_CATALOGUE]
            await State.bulk_create(
                # Positions count within each kind: 0, 1, 2... in the list's order.
                State(kind=kind, description=text, closes=closes, position=kinds[:index].count(kind))
                for index, (kind, text, closes) in enumerate(DEFAULT_CATALOGUE)
            )
            added += len(DEFAULT_CATALOGUE)
        if not await Group.exists():
            await Group.create(name=DEFAULT_GROUP)
            added += 1
    return added
