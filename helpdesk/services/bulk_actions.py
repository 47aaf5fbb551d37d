"""One change to many tickets at once (a queue's selected rows): each ticket through the same
service call as on its own page, so each gets its own history entry and its own refusal.

ACTIONS maps each action's name to that call, `await call(human_id=..., value=..., actor=...)`;
another action is one more entry."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from helpdesk.errors import DomainError, Forbidden, Invalid
from helpdesk.models import User
from helpdesk.services import tags, tickets

MAX_TICKETS = 100  # per request: a queue page holds 50
Action = Callable[..., Awaitable[Any]]


def _set(name: str) -> Action:
    """Set one field (state, priority, group, assignee; None clears group and assignee)."""

    async def call(*, human_id: str, value: Any, actor: User) -> None:
        changes = tickets.TicketChanges(values={name: value})
        await tickets.update_ticket(human_id=human_id, changes=changes, actor=actor)

    return call


def _post(*, internal: bool) -> Action:
    """Post the same reply (or internal note) to the ticket."""

    async def call(*, human_id: str, value: Any, actor: User) -> None:
        await tickets.post_comment(human_id=human_id, body=value, actor=actor, internal=internal)

    return call


def _tag(change: Callable[..., Awaitable[bool]]) -> Action:
    """Add or remove one tag (services/tags.py)."""

    async def call(*, human_id: str, value: Any, actor: User) -> None:
        await change(ticket_id=human_id, name=value, actor=actor)

    return call


ACTIONS: dict[str, Action] = {
    "state": _set("state"),
    "priority": _set("priority"),
    "group": _set("group"),
    "assignee": _set("assignee"),
    "reply": _post(internal=False),
    "note": _post(internal=True),
    "add_tag": _tag(tags.add_tag),
    "remove_tag": _tag(tags.remove_tag),
}
# Actions whose value is text that must say something.
TEXT_ACTIONS = {"reply", "note", "add_tag", "remove_tag"}


@dataclass
class BulkResult:
    """Which tickets changed, and which were refused with the reason."""

    updated: list[str] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)

    def summary(self) -> str:
        """One line: "3 updated, 1 refused: INC-5: No ticket INC-5."."""
        text = f"{len(self.updated)} updated"
        if self.refused:
            reasons = "; ".join(f"{human_id}: {reason}" for human_id, reason in self.refused)
            text += f", {len(self.refused)} refused: {reasons}"
        return text


async def apply(*, action: str, human_ids: list[str], value: Any, actor: User) -> BulkResult:
    """Apply `action` with `value` to each ticket (agents only, at most MAX_TICKETS, each once);
    a ticket the agent may not change (or that refuses the value) is skipped and said why."""
    if not actor.is_staff:
        raise Forbidden("Only agents change many tickets at once.")
    _check(action, human_ids, value)
    result = BulkResult()
    for human_id in dict.fromkeys(human_ids):
        try:
            await ACTIONS[action](human_id=human_id, value=value, actor=actor)
        except DomainError as refusal:
            result.refused.append((human_id, _reason(refusal)))
        else:
            result.updated.append(human_id)
    return result


def _check(action: str, human_ids: list[str], value: Any) -> None:
    if action not in ACTIONS:
        raise Invalid("Pick an action.", {"action": [f"is one of {', '.join(ACTIONS)}"]})
    if not human_ids:
        raise Invalid("Select at least one ticket.", {"tickets": ["select at least one"]})
    if len(set(human_ids)) > MAX_TICKETS:
        raise Invalid(f"At most {MAX_TICKETS} tickets at once.", {"tickets": [f"at most {MAX_TICKETS}"]})
    if action in TEXT_ACTIONS and not (isinstance(value, str) and value.strip()):
        raise Invalid("The message is empty.", {"body": ["must not be empty"]})


def _reason(refusal: DomainError) -> str:
    """The refusal's message, with its field errors (an unknown state says which)."""
    details = "; ".join(f"{name} {'; '.join(errors)}" for name, errors in refusal.errors.items())
    return f"{refusal.message} ({details})" if details else refusal.message
