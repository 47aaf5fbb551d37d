"""Files on tickets and comments. The bytes live in the blob store (services/blob_store.py) under
their SHA-256, so identical files share one stored copy; each row is one file as someone gave it."""

from tortoise import fields
from tortoise.models import Model

from helpdesk.models.people import User
from helpdesk.models.tickets import Comment, Ticket


class Attachment(Model):
    """One uploaded file. `comment` is empty until a comment carries it; `on_ticket` marks the files
    given with a new ticket (they belong to its description, which every reader of the ticket sees)."""

    id = fields.IntField(primary_key=True)
    ticket: fields.ForeignKeyRelation[Ticket] = fields.ForeignKeyField(
        "helpdesk.Ticket", related_name="attachments", on_delete=fields.CASCADE
    )
    comment: fields.ForeignKeyNullableRelation[Comment] = fields.ForeignKeyField(
        "helpdesk.Comment", related_name="attachments", null=True, on_delete=fields.CASCADE
    )
    on_ticket = fields.BooleanField(default=False)
    sha256 = fields.CharField(max_length=64)
    size = fields.BigIntField()
    filename = fields.CharField(max_length=255)
    content_type = fields.CharField(max_length=127)  # sniffed from the bytes, never the client's word
    uploaded_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "helpdesk.User", related_name="attachments", null=True, on_delete=fields.SET_NULL
    )
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "attachment"
        # (comment_id): a thread's files; (ticket_id, id): a ticket's; (uploaded_by_id, ticket_id): the
        # uploader's unattached files a new comment may carry.
        indexes = (("comment_id", "id"), ("ticket_id", "id"), ("uploaded_by_id", "ticket_id"))
