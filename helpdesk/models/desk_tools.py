"""The agents' everyday tools: tags on tickets, canned replies, saved queue views and links between
tickets (issue 16)."""

from tortoise import fields
from tortoise.models import Model

from helpdesk.models.people import Group, User
from helpdesk.models.tickets import Ticket


class Tag(Model):
    """A label agents put on tickets; its name is normalised (services/tags.py), so one per word."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=40, unique=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "tag"


class TicketTag(Model):
    """One tag on one ticket."""

    id = fields.IntField(primary_key=True)
    ticket: fields.ForeignKeyRelation[Ticket] = fields.ForeignKeyField(
        "helpdesk.Ticket", related_name="ticket_tags", on_delete=fields.CASCADE
    )
    tag: fields.ForeignKeyRelation[Tag] = fields.ForeignKeyField(
        "helpdesk.Tag", related_name="ticket_tags", on_delete=fields.CASCADE
    )
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "ticket_tag"
        unique_together = (("ticket", "tag"),)
        indexes = (("tag_id", "ticket_id"),)  # the queue's and the API's filter by tag


class CannedReply(Model):
    """A reply template: shared (no owner, admins manage it) or an agent's own."""

    id = fields.IntField(primary_key=True)
    title = fields.CharField(max_length=100)
    body = fields.TextField()
    owner: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "helpdesk.User", related_name="canned_replies", null=True, on_delete=fields.CASCADE
    )
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "canned_reply"
        indexes = (("owner_id", "title"),)


class SavedView(Model):
    """A queue's filters and sort under a name: its owner's, or shared with a group's members."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=100)
    owner: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "helpdesk.User", related_name="saved_views", on_delete=fields.CASCADE
    )
    group: fields.ForeignKeyNullableRelation[Group] = fields.ForeignKeyField(
        "helpdesk.Group", related_name="saved_views", null=True, on_delete=fields.CASCADE
    )
    queue = fields.CharField(max_length=64)  # the queue it was saved from
    filters = fields.TextField()  # JSON: the queue page's filter parameters
    sort = fields.CharField(max_length=32)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "saved_view"
        indexes = (("owner_id", "name"), ("group_id", "name"))


class TicketLink(Model):
    """One direction of a link between two tickets (a link is two rows, one each way).
    `kind`: related, or merged (this ticket was merged into `other`) / merged_from."""

    id = fields.IntField(primary_key=True)
    ticket: fields.ForeignKeyRelation[Ticket] = fields.ForeignKeyField(
        "helpdesk.Ticket", related_name="links", on_delete=fields.CASCADE
    )
    other: fields.ForeignKeyRelation[Ticket] = fields.ForeignKeyField(
        "helpdesk.Ticket", related_name="linked_from", on_delete=fields.CASCADE
    )
    kind = fields.CharField(max_length=16, default="related")
    created_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "helpdesk.User", related_name="ticket_links", null=True, on_delete=fields.SET_NULL
    )
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "ticket_link"
        unique_together = (("ticket", "other"),)
