"""Users, their API tokens and web sessions, organisations and agent groups."""

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class Organisation(Model):
    """A customer or partner organisation in the directory (DECISIONS 33)."""

    id = fields.IntField(primary_key=True)
    human_id = fields.CharField(max_length=64, unique=True)
    legal_name = fields.CharField(max_length=255)
    name = fields.CharField(max_length=255)
    role = fields.CharField(max_length=32, default="customer")
    parent: fields.ForeignKeyNullableRelation["Organisation"] = fields.ForeignKeyField(
        "helpdesk.Organisation", related_name="children", null=True, on_delete=fields.SET_NULL
    )
    # What a customer's web ticket is filed under: customers cannot know these IDs (the API's
    # clients still send their own).
    default_contract_hid = fields.CharField(max_length=64, null=True)
    default_tenant_hid = fields.CharField(max_length=64, null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "organisation"
        indexes = (("name",),)


class User(Model):
    """A person: agent, admin or customer. Deactivated users keep their rows for history."""

    id = fields.IntField(primary_key=True)
    email = fields.CharField(max_length=254, unique=True)
    name = fields.CharField(max_length=255)
    phone = fields.CharField(max_length=64, null=True)
    admin = fields.BooleanField(default=False)
    agent = fields.BooleanField(default=False)
    human_id = fields.CharField(max_length=64, unique=True, null=True)
    organisation_hid = fields.CharField(max_length=64, null=True)
    password_hash = fields.CharField(max_length=255, null=True)
    active = fields.BooleanField(default=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)
    # The IANA zone (Europe/London) the desk shows this user's times in; empty: UTC.
    time_zone = fields.CharField(max_length=64, default="", db_default="")
    # Assignment rules (services/assignment.py) skip an agent who is away or already holds
    # `capacity` open tickets (None: no limit).
    available = fields.BooleanField(default=True, db_default=True)
    capacity = fields.IntField(null=True)

    class Meta:
        table = "user"
        indexes = (("agent", "active"), ("organisation_hid",))

    @property
    def is_staff(self) -> bool:
        """Agents and admins work every ticket; everyone else is a customer."""
        return self.admin or self.agent


class ApiToken(Model):
    """A named API token. Only its SHA-256 digest is stored."""

    id = fields.IntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "helpdesk.User", related_name="tokens", on_delete=fields.CASCADE
    )
    name = fields.CharField(max_length=100)
    digest = fields.CharField(max_length=64, unique=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    last_used_at = fields.DatetimeField(null=True)
    revoked_at = fields.DatetimeField(null=True)

    class Meta:
        table = "api_token"


class WebSession(Model):
    """A signed-in browser: the cookie holds a random id, the table its digest."""

    digest = fields.CharField(max_length=64, primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "helpdesk.User", related_name="sessions", on_delete=fields.CASCADE
    )
    created_at = fields.DatetimeField(auto_now_add=True)
    expires_at = fields.DatetimeField()
    # When the browser was last seen (written at most once a minute); None until then. The three
    # columns came after sessions existed, so they may be empty.
    last_seen_at = fields.DatetimeField(null=True)
    address = fields.CharField(max_length=64, null=True)
    browser = fields.CharField(max_length=200, null=True)

    class Meta:
        table = "web_session"
        indexes = (("expires_at",), ("user_id",))


class Attempt(Model):
    """One counted attempt (a failed sign-in, an emailed link) under the digest of what it counts
    against (an account, an address).

    In the database so that every app process counts the same attempts; rows older than the
    longest window counted are deleted as new ones arrive."""

    id = fields.IntField(primary_key=True)
    key = fields.CharField(max_length=64)
    created_at = fields.DatetimeField()

    class Meta:
        table = "attempt"
        indexes = (("key", "created_at"), ("created_at",))


class RateBucket(Model):
    """A request limit's token bucket (api/limits.py) under the digest of what it limits (a token):
    in the database, so N app processes enforce one limit. `tokens` left at `stamp` (Unix seconds)."""

    key = fields.CharField(max_length=64, primary_key=True)
    tokens = fields.FloatField()
    stamp = fields.FloatField()
    refused = fields.BooleanField(default=False)  # whether the latest request was refused

    class Meta:
        table = "rate_bucket"


class AssignmentMode(StrEnum):
    """How a group's new tickets find their assignee (services/assignment.py)."""

    MANUAL = "manual"  # nobody until an agent assigns one
    ROUND_ROBIN = "roundRobin"  # each available member in turn
    LEAST_OPEN = "leastOpen"  # the available member holding the fewest open tickets


class Group(Model):
    """A team of agents. Tickets are queued to groups."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=100, unique=True)
    assignment = fields.CharEnumField(
        AssignmentMode, max_length=16, default=AssignmentMode.MANUAL, db_default=AssignmentMode.MANUAL.value
    )
    # The member a rule assigned last: round robin goes on from the next one after it.
    last_assigned_id = fields.IntField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "agent_group"


class GroupMember(Model):
    """An agent's membership of a group."""

    id = fields.IntField(primary_key=True)
    group: fields.ForeignKeyRelation[Group] = fields.ForeignKeyField(
        "helpdesk.Group", related_name="members", on_delete=fields.CASCADE
    )
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "helpdesk.User", related_name="memberships", on_delete=fields.CASCADE
    )
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "group_member"
        unique_together = (("group", "user"),)
        indexes = (("user_id",),)
