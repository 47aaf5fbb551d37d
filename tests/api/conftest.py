"""API test helpers: users with tokens, and a client that sends them."""

import pytest

from helpdesk.models import Organisation
from helpdesk.services.users import create_token
from tests.factories import make_admin, make_agent, make_customer


class ApiUser:
    """A user and its bearer token, with request helpers."""

    def __init__(self, client, user, token):
        self.client, self.user, self.token = client, user, token

    def headers(self, extra=None):
        return {"Authorization": f"Bearer {self.token}"} | (extra or {})

    async def get(self, path, **kw):
        return await self.client.get(path, headers=self.headers(kw.pop("headers", None)), **kw)

    async def post(self, path, **kw):
        return await self.client.post(path, headers=self.headers(kw.pop("headers", None)), **kw)

    async def patch(self, path, **kw):
        return await self.client.patch(path, headers=self.headers(kw.pop("headers", None)), **kw)

    async def delete(self, path, **kw):
        return await self.client.delete(path, headers=self.headers(kw.pop("headers", None)), **kw)


async def _api_user(client, user):
    return ApiUser(client, user, await create_token(user=user, name="test", actor=None))


@pytest.fixture
async def admin(app, client):
    return await _api_user(client, await make_admin(human_id="USR-1", organisation_hid="ORG-1"))


@pytest.fixture
async def agent(app, client):
    return await _api_user(client, await make_agent(human_id="USR-2"))


@pytest.fixture
async def customer(app, client):
    return await _api_user(client, await make_customer(organisation_hid="ORG-1", human_id="USR-3"))


@pytest.fixture
async def directory(app):
    partner = await Organisation.create(
        human_id="ORG-P", legal_name="Partner plc", name="Partner", role="partner"
    )
    await Organisation.create(
        human_id="ORG-1", legal_name="Acme Ltd", name="Acme", role="customer", parent=partner
    )


TICKET = {
    "organisationHumanId": "ORG-1",
    "contractHumanId": "CON-1",
    "tenantHumanId": "7",
    "reporterHumanId": "USR-3",
    "title": "Phones down",
    "description": "No dial tone since 9am",
}
