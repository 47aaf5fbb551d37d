"""Numbers too large for a database id, typed into forms or URLs, are refused, never a 500."""

import pytest

from helpdesk.models import Group, State
from tests.factories import make_admin, make_ticket
from tests.web.conftest import csrf_token, sign_in

HUGE = "99999999999999999999"


@pytest.fixture
async def admin_client(client):
    await sign_in(client, await make_admin())
    return client


async def test_a_huge_queue_filter_is_ignored(admin_client):
    response = await admin_client.get(f"/queues/open?state={HUGE}&group={HUGE}&cursor={'x' * 300}")
    assert response.status_code == 200


async def test_huge_ids_in_ticket_forms_are_field_errors(admin_client):
    ticket = await make_ticket()
    token = await csrf_token(admin_client, f"/tickets/{ticket.human_id}")
    fields = await admin_client.post(
        f"/tickets/{ticket.human_id}/fields", form={"csrf_token": token, "version": "1", "state": HUGE}
    )
    assert fields.status_code == 422
    new = {"csrf_token": token, "title": "t", "description": "d", "organisation": "ORG-1", "contract": "C",
           "tenant": "1", "reporter": "USR-1", "priority": HUGE}  # fmt: skip
    assert (await admin_client.post("/tickets/new", form=new)).status_code == 422
    switch = await admin_client.post(
        f"/tickets/{ticket.human_id}/contacts/{HUGE}/off", form={"csrf_token": token}
    )
    assert switch.status_code == 404


async def test_huge_ids_in_admin_forms_and_urls_are_refused(admin_client):
    token = await csrf_token(admin_client, "/admin/groups")
    group = await Group.first()
    member = await admin_client.post(
        f"/admin/groups/{group.id}/members", form={"csrf_token": token, "user": HUGE}
    )
    assert member.status_code == 422
    assert (
        await admin_client.post(f"/admin/groups/{HUGE}/members", form={"csrf_token": token, "user": "1"})
    ).status_code == 404
    state = {"csrf_token": token, "kind": "1", "description": "Huge", "position": HUGE}
    assert (await admin_client.post("/admin/states", form=state)).status_code == 422
    assert not await State.exists(description="Huge")
    revoke = await admin_client.post(f"/admin/users/1/tokens/{HUGE}/revoke", form={"csrf_token": token})
    assert revoke.status_code == 404


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31", "1899-12-31"])
async def test_report_dates_out_of_range_are_400(admin_client, day):
    for path in (f"/reports?period=weekly&date={day}", f"/reports/download?period=monthly&date={day}"):
        assert (await admin_client.get(path)).status_code == 400
