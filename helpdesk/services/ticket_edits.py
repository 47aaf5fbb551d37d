"""The ticket page's tools: editing its words and parties, deleting it from the desk (admins),
assigning it to oneself, replying and setting the state in one step, its reporter by name."""

from dataclasses import dataclass
from typing import Any

from helpdesk.errors import Forbidden, Invalid
from helpdesk.models import Comment, StateKind, Ticket, User, ids_in_range
from helpdesk.services import access, cache, organisations, tickets


@dataclass
class TicketEdit:
    """What an agent may rewrite: the title and description, the organisation and reporter (each
    by ID or, as on a new ticket, by a name the directory knows)."""

    title: str
    description: str
    organisation: str
    reporter: str
    unknown_ok: bool = False


async def edit_ticket(*, human_id: str, edit: TicketEdit, actor: User, expected_version: int) -> Ticket:
    """Rewrite the ticket against the version the agent saw (agents only); each changed field goes
    to the history through update_ticket. New parties are checked against the directory; parties
    left as they were are not (a ticket filed for an unknown organisation stays editable)."""
    ticket = await tickets.load(human_id=human_id, actor=actor, agents_only="edit tickets")
    organisation, reporter = edit.organisation, edit.reporter
    if (organisation, reporter) != (ticket.organisation_hid, ticket.reporter_hid):
        parties = await organisations.ticket_parties(
            organisation=organisation, reporter=reporter, actor=actor, unknown_ok=edit.unknown_ok
        )
        organisation, reporter = parties.organisation_hid, parties.reporter_hid
    values = {
        "title": edit.title, "description": edit.description,
        "organisation_hid": organisation, "reporter_hid": reporter,
    }  # fmt: skip
    return await tickets.update_ticket(
        human_id=human_id,
        changes=tickets.TicketChanges(values=values),
        actor=actor,
        expected_version=expected_version,
    )


async def delete_ticket(*, human_id: str, actor: User) -> None:
    """Soft-delete from the desk: admins only (the API's DELETE stays open to agents, as documented)."""
    await tickets.load(human_id=human_id, actor=actor, agents_only="delete tickets")
    if not actor.admin:
        raise Forbidden("Only admins delete tickets.")
    await tickets.delete_ticket(human_id=human_id, actor=actor)


async def reporter_of(*, ticket: Ticket, actor: User) -> User | None:
    """The user the ticket's reporter ID names (to show them by name), or None for an earlier
    reporter the directory has no account for. From the per-process cache of users."""
    access.authorise(ticket, actor)
    return await cache.people.one(ticket.reporter_hid) if ticket.reporter_hid else None


async def assign_to_me(*, human_id: str, actor: User) -> Ticket:
    """Take the ticket (agents only): its assignee becomes the actor, recorded in the history."""
    changes = tickets.TicketChanges(values={"assignee": actor.id})
    return await tickets.update_ticket(human_id=human_id, changes=changes, actor=actor)


async def reply_and_set_state(
    *, human_id: str, body: str, internal: bool, state_id: int | None, actor: User, **comment: Any
) -> Comment:
    """Post the reply or note, then (agents, when given) set the ticket's state: one step for the
    agent. The state is checked before anything is posted. `comment`: more of post_comment's
    arguments (the files it carries, the thread it was written against)."""
    if state_id is not None:
        if not actor.is_staff:
            raise Forbidden("Only agents set a ticket's state.")
        state = await cache.states.one(state_id) if ids_in_range(state_id) else None
        if state is None or state.kind != StateKind.STATE:
            raise Invalid("Unknown state.", {"then_state": [f"{state_id} is not a state in the catalogue"]})
    posted = await tickets.post_comment(
        human_id=human_id, body=body, actor=actor, internal=internal, **comment
    )
    if state_id is not None:
        changes = tickets.TicketChanges(values={"state": state_id})
        await tickets.update_ticket(human_id=human_id, changes=changes, actor=actor)
    return posted
