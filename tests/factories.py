"""Plain async factories for tests: each makes one valid object and says what it made."""

from itertools import count

from helpdesk.models import Organisation, Ticket, User
from helpdesk.services import tickets as ticket_service
from helpdesk.services import users as user_service

_serial = count(1)


async def make_user(**fields) -> User:
    n = next(_serial)
    values = {"email": f"user{n}@example.com", "name": f"User {n}", "actor": None} | fields
    return await user_service.create_user(**values)


async def make_agent(**fields) -> User:
    return await make_user(agent=True, **fields)


async def make_admin(**fields) -> User:
    return await make_user(admin=True, agent=True, **fields)


async def make_customer(organisation_hid: str = "ORG-1", **fields) -> User:
    return await make_user(organisation_hid=organisation_hid, **fields)


async def make_organisation(human_id: str = "ORG-1", **fields) -> Organisation:
    values = {"legal_name": f"{human_id} Ltd", "name": human_id, "role": "customer"} | fields
    return await Organisation.create(human_id=human_id, **values)


async def make_ticket(actor: User | None = None, **fields) -> Ticket:
    actor = actor or await make_agent()
    values = {
        "organisation_hid": "ORG-1",
        "contract_hid": "CON-1",
        "tenant_hid": "1",
        "reporter_hid": "USR-1",
        "description": "Phones are down",
        "title": "Phones down",
    } | fields
    return await ticket_service.create_ticket(data=ticket_service.NewTicket(**values), actor=actor)
