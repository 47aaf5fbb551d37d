"""What a stored incoming message becomes: a comment on its ticket, a new ticket, a bounce on
record, or nothing (with the reason), decided in this order:

1. a delivery-status notification marks the address its returned message went to as bouncing;
2. the helpdesk's own mail and mail a machine sent (auto-replies, lists) make nothing at all;
3. a sender over the hourly cap makes nothing;
4. the ticket: In-Reply-To/References against the Message-IDs the helpdesk sent (or received on
   that ticket), else the ticket's reply address, else an [INC-n] subject tag from a contact of it;
   the reply is a public comment by its sender when they are one of the ticket's contacts or a
   customer user of its organisation, else an internal note flagged unverified;
5. no ticket: a customer user or a known contact opens one; anyone else follows
   MAIL_IN_UNKNOWN_SENDERS (open in MAIL_IN_UNKNOWN_ORGANISATION / _GROUP, or refuse).

Runs inside the worker's transaction: the comment or ticket and the message's outcome commit together.
"""

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parseaddr
from typing import Any

from tortoise.transactions import in_transaction

from helpdesk.errors import Conflict, DomainError, NotFound
from helpdesk.models import (
    BouncingAddress,
    Comment,
    Group,
    InboundEmail,
    InboundStatus,
    Organisation,
    OutboxEmail,
    Ticket,
    TicketAttribute,
    User,
    ids_in_range,
)
from helpdesk.models.tickets import CONTACT, DECLINED
from helpdesk.services import attachments, feed, history, notifications, sla, tickets
from helpdesk.services.mail_parse import MailAttachment, MailRefused, ParsedMail, parse, trim_reply
from helpdesk.services.reply_address import intake_address, ticket_of_address
from helpdesk.services.values import EMAIL_KEYS

SUBJECT_TAG = re.compile(r"\[(INC-[1-9][0-9]{0,9})\]")
INTAKE_USER_EMAIL = "mail-intake@helpdesk.invalid"  # the actor of tickets opened for non-users
RATE_WINDOW = timedelta(hours=1)
EMAIL = "email"
CHANNELS = ("web", "api", EMAIL)


class MailConfigError(Exception):
    """The configuration cannot handle this message (e.g. an unknown MAIL_IN_UNKNOWN_GROUP): the
    message fails with this reason and is retried once an admin fixes it."""


@dataclass
class Outcome:
    status: InboundStatus
    text: str
    ticket_id: int | None = None
    comment_id: int | None = None


def store_attachments(row: InboundEmail, attachments: list[MailAttachment]) -> None:
    """Record the names, types and sizes of the message's attachments on its row (the files themselves
    are kept by `_with_files` on what the message became; the raw message keeps them all)."""
    row.attachments = json.dumps(
        [{"filename": a.filename, "contentType": a.content_type, "size": len(a.data), "inline": a.inline}
         for a in attachments]
    )  # fmt: skip


async def on_customer_reply(ticket: Ticket, comment: Comment, author: User | None) -> None:
    """A contact's or customer's email reply was added to the ticket: a waiting ticket reopens and
    its assignee is told (services/notifications.py), inside the reply's transaction and before
    its feed row."""
    await notifications.customer_replied(
        ticket=ticket, actor=author, body=comment.body, label=comment.email_from or ""
    )
    await sla.recompute(ticket_id=ticket.id, actor=author, actor_label=comment.email_from or "")


async def route(row: InboundEmail, config: Mapping[str, Any]) -> Outcome:
    """Act on one stored message; MailRefused says why it made nothing."""
    mail = parse(row.raw_message)
    row.body_text = mail.text
    store_attachments(row, mail.attachments)
    if mail.bounce is not None:
        return await _record_bounce(row, mail)
    if reason := await _own_mail(mail, config):
        raise MailRefused(reason)
    if mail.automatic:
        raise MailRefused(f"Sent automatically ({mail.automatic}): no ticket, comment or reply.")
    if reason := await _over_rate(row, config):
        raise MailRefused(reason)
    ticket = await _ticket_of(mail, row, config)
    outcome = await _reply(ticket, mail) if ticket is not None else await _new_ticket(mail, config)
    return await _with_files(outcome, mail)


async def _with_files(outcome: Outcome, mail: ParsedMail) -> Outcome:
    """Keep the message's files and inline images on the comment (or new ticket) it became."""
    if not mail.attachments or outcome.ticket_id is None:
        return outcome
    skipped = await attachments.add_from_mail(
        ticket_id=outcome.ticket_id, comment_id=outcome.comment_id,
        files=[(a.filename, a.data) for a in mail.attachments], actor=None,
    )  # fmt: skip
    if skipped:
        outcome.text = f"{outcome.text} Too large to keep (only in the raw message): {', '.join(skipped)}."
    return outcome


async def _own_mail(mail: ParsedMail, config: Mapping[str, Any]) -> str:
    ours = {parseaddr(str(config.get("MAIL_FROM", "")))[1].lower(), intake_address(config)} - {""}
    base_local = intake_address(config).partition("@")[0]
    local, _, domain = mail.sender.partition("@")
    tagged = (
        bool(base_local) and local.startswith(f"{base_local}+") and intake_address(config).endswith(domain)
    )
    if mail.sender in ours or tagged or await OutboxEmail.exists(message_id=mail.message_id):
        return "Sent by the helpdesk itself: no ticket, comment or reply."
    return ""


async def _over_rate(row: InboundEmail, config: Mapping[str, Any]) -> str:
    limit = int(config.get("MAIL_IN_SENDER_HOURLY_LIMIT", 20))
    if not limit:
        return ""
    since = datetime.now(UTC) - RATE_WINDOW
    acted = InboundEmail.filter(
        sender=row.sender, created_at__gte=since, id__lt=row.id, status=InboundStatus.DONE
    )
    if await acted.count() >= limit:
        return f"Over the cap of {limit} messages an hour from one sender (MAIL_IN_SENDER_HOURLY_LIMIT)."
    return ""


# --- Finding the ticket --------------------------------------------------------------------


async def _ticket_of(mail: ParsedMail, row: InboundEmail, config: Mapping[str, Any]) -> Ticket | None:
    """The live ticket the message answers, by headers, then reply address, then subject tag."""
    if ticket := await _ticket_by_references(mail.references):
        return ticket
    envelope = [address for address in row.envelope_recipients.splitlines() if address]
    for address in [*envelope, *mail.recipients]:
        if (ticket_id := ticket_of_address(address, config)) and (ticket := await _live(ticket_id)):
            return ticket
    tag = SUBJECT_TAG.search(mail.subject)
    ticket = await _live(Ticket.parse_human_id(tag.group(1))) if tag else None
    if ticket is not None and await _is_contact(ticket, mail.sender):
        return ticket
    return None


async def _ticket_by_references(references: list[str]) -> Ticket | None:
    if not references:
        return None
    sent = (
        await OutboxEmail.filter(message_id__in=references, ticket_id__isnull=False).order_by("-id").first()
    )
    received = (
        await InboundEmail.filter(message_key__in=references, ticket_id__isnull=False).order_by("-id").first()
    )
    for found in (sent, received):
        if found is not None and (ticket := await _live(found.ticket_id)):
            return ticket
    return None


async def _live(ticket_id: int | None) -> Ticket | None:
    if not ticket_id or not ids_in_range(ticket_id):
        return None
    return await Ticket.get_or_none(id=ticket_id, deleted_at=None)


async def _is_contact(ticket: Ticket, address: str) -> bool:
    rows = TicketAttribute.filter(ticket_id=ticket.id, type=CONTACT, key__in=EMAIL_KEYS).exclude(
        consent=DECLINED
    )
    return address in {value.lower() for value in await rows.values_list("value", flat=True)}


async def _customer_user(address: str) -> User | None:
    """The active customer (not agent) account with this address."""
    user = await User.filter(email__iexact=address, active=True).first()
    return user if user is not None and not user.is_staff else None


# --- A reply -------------------------------------------------------------------------------


async def _reply(ticket: Ticket, mail: ParsedMail) -> Outcome:
    """The reply as a public comment by a verified sender, or an internal note flagged unverified."""
    user = await _customer_user(mail.sender)
    own_organisation = user is not None and user.organisation_hid == ticket.organisation_hid
    verified = own_organisation or await _is_contact(ticket, mail.sender)
    author = user if own_organisation else None
    moment = datetime.now(UTC)
    comment = await Comment.create(
        ticket_id=ticket.id, author=author, author_hid=(author.human_id or "") if author else "",
        body=_comment_text(mail), internal=not verified, channel=EMAIL, email_from=mail.sender,
        unverified=not verified, created_at=moment, updated_at=moment,
    )  # fmt: skip
    await Ticket.filter(id=ticket.id).update(updated_at=moment)
    if verified:
        await on_customer_reply(ticket, comment, author)
    await feed.publish_ticket(
        "comment.created", ticket, author, comment=comment.id, internal=comment.internal, channel=EMAIL
    )
    what = "a public reply" if verified else "an internal note (unverified sender)"
    return Outcome(InboundStatus.DONE, f"Added to {ticket.human_id} as {what}.", ticket.id, comment.id)


def _comment_text(mail: ParsedMail) -> str:
    text = trim_reply(mail.text)
    if text:
        return text
    names = ", ".join(a.filename for a in mail.attachments)
    return f"(No text; attached: {names})" if names else "(No text.)"


# --- A new ticket --------------------------------------------------------------------------


@dataclass
class Opening:
    """Whom a new ticket by email is for, and who opens it."""

    organisation_hid: str
    contract_hid: str
    tenant_hid: str
    reporter_hid: str
    actor: User
    group_id: int | None = None


async def _new_ticket(mail: ParsedMail, config: Mapping[str, Any]) -> Outcome:
    """A ticket for a known sender (or, by policy, an unknown one), with the sender as main contact."""
    opening = await _opening(mail.sender, config)
    data = tickets.NewTicket(
        organisation_hid=opening.organisation_hid, contract_hid=opening.contract_hid,
        tenant_hid=opening.tenant_hid, reporter_hid=opening.reporter_hid,
        title=mail.subject[:255] or "(no subject)", description=_comment_text(mail),
        contacts=tickets.Contacts(main_email=mail.sender), group_id=opening.group_id,
    )  # fmt: skip
    try:
        ticket = await tickets.create_ticket(data=data, actor=opening.actor)
    except DomainError as error:
        raise MailRefused(f"No ticket could be opened: {error}") from error
    return Outcome(InboundStatus.DONE, f"Opened {ticket.human_id}.", ticket.id)


async def _opening(sender: str, config: Mapping[str, Any]) -> Opening:
    if (user := await _customer_user(sender)) is not None and user.organisation_hid:
        organisation = await Organisation.get_or_none(human_id=user.organisation_hid)
        if organisation is None or not (
            organisation.default_contract_hid and organisation.default_tenant_hid
        ):
            raise MailRefused(
                f"{sender} is a customer of {user.organisation_hid}, whose default contract and tenant "
                "are not set (Admin → Organisations): no ticket could be opened."
            )
        hid = user.human_id or ""
        return Opening(user.organisation_hid, organisation.default_contract_hid,
                       organisation.default_tenant_hid, hid, user)  # fmt: skip
    if (latest := await _latest_ticket_of_contact(sender)) is not None:
        actor = await intake_user()
        return Opening(latest.organisation_hid, latest.contract_hid, latest.tenant_hid, "", actor)
    return await _unknown_sender(sender, config)


def _has_defaults(organisation: Organisation | None) -> bool:
    return organisation is not None and bool(
        organisation.default_contract_hid and organisation.default_tenant_hid
    )


async def _latest_ticket_of_contact(address: str) -> Ticket | None:
    rows = TicketAttribute.filter(type=CONTACT, key__in=EMAIL_KEYS, value__iexact=address)
    ticket_ids = await rows.exclude(consent=DECLINED).values_list("ticket_id", flat=True)
    return await Ticket.filter(id__in=list(ticket_ids), deleted_at=None).order_by("-id").first()


async def _unknown_sender(sender: str, config: Mapping[str, Any]) -> Opening:
    policy = str(config.get("MAIL_IN_UNKNOWN_SENDERS", "refuse")).lower()
    if policy != "open":
        raise MailRefused(
            f"{sender} is neither a customer user nor a contact of any ticket, and "
            "MAIL_IN_UNKNOWN_SENDERS is refuse."
        )
    hid = str(config.get("MAIL_IN_UNKNOWN_ORGANISATION", ""))
    organisation = await Organisation.get_or_none(human_id=hid) if hid else None
    if not _has_defaults(organisation):
        raise MailConfigError(
            f"MAIL_IN_UNKNOWN_ORGANISATION ({hid or 'unset'}) names no organisation with a default "
            "contract and tenant."
        )
    group_name = str(config.get("MAIL_IN_UNKNOWN_GROUP", ""))
    group = await Group.get_or_none(name=group_name) if group_name else None
    if group_name and group is None:
        raise MailConfigError(f"MAIL_IN_UNKNOWN_GROUP names no group: {group_name!r}.")
    return Opening(hid, organisation.default_contract_hid, organisation.default_tenant_hid, "",
                   await intake_user(), group.id if group else None)  # fmt: skip


async def intake_user() -> User:
    """The (inactive, passwordless) account that opens tickets for senders without one of their own:
    the history says "Email" opened them."""
    user, _ = await User.get_or_create(
        email=INTAKE_USER_EMAIL, defaults={"name": "Email", "agent": True, "active": False}
    )
    return user


# --- Bounces -------------------------------------------------------------------------------


async def _record_bounce(row: InboundEmail, mail: ParsedMail) -> Outcome:
    """Mark the address the bounced email went to, when the report says its delivery failed."""
    report = mail.bounce
    sent = None
    if report and report.original_message_id:
        sent = await OutboxEmail.get_or_none(message_id=report.original_message_id)
    if sent is None:
        raise MailRefused("A delivery-status notification about no email the helpdesk sent.")
    address = sent.recipient.lower()
    if address not in report.failed:
        raise MailRefused(f"A delivery-status notification that reports no failure for {address}.")
    reason = f"{report.status or 'failed'} on {datetime.now(UTC):%Y-%m-%d}"
    _, created = await BouncingAddress.get_or_create(
        address=address, defaults={"reason": reason, "outbox_email_id": sent.id, "inbound_email_id": row.id}
    )
    ticket = await _live(sent.ticket_id)
    if ticket is not None and created:
        await history.record_change(
            ticket=ticket, actor=None, field=history.BOUNCING, new=address, actor_label="Mail system"
        )
        await feed.publish_ticket("contacts.changed", ticket)
    return Outcome(
        InboundStatus.DONE, f"Mail to {address} bounced ({reason}): marked bouncing.", sent.ticket_id
    )


async def clear_bouncing(*, human_id: str, address: str, actor: User) -> None:
    """An agent clears a bouncing address of the ticket's: its emails are sent again."""
    ticket = await tickets.load(human_id=human_id, actor=actor, agents_only="clear bouncing addresses")
    async with in_transaction():
        if not await BouncingAddress.filter(address=address.lower()).delete():
            raise NotFound(f"{address} is not marked bouncing.")
        await history.record_change(ticket=ticket, actor=actor, field=history.BOUNCE_CLEARED, new=address)
        await feed.publish_ticket("contacts.changed", ticket, actor)


# --- Unverified senders --------------------------------------------------------------------


async def accept_unverified(*, human_id: str, comment_id: int, actor: User) -> None:
    """An agent accepts an unverified sender's note as the customer's public reply."""
    ticket = await tickets.load(human_id=human_id, actor=actor, agents_only="accept unverified email")
    query = Comment.filter(id=comment_id, ticket_id=ticket.id, unverified=True)
    comment = await query.first() if ids_in_range(comment_id) else None
    if comment is None:
        raise NotFound(f"No unverified email {comment_id} on {human_id}.")
    async with in_transaction():
        if not await query.update(unverified=False, internal=False):
            raise Conflict("Another agent has already accepted this email.")
        await history.record_change(
            ticket=ticket, actor=actor, field=history.UNVERIFIED_ACCEPTED, new=comment.email_from
        )
        comment.internal, comment.unverified = False, False
        await on_customer_reply(ticket, comment, None)
        await feed.publish_ticket("comment.created", ticket, actor, comment=comment.id, internal=False)
