"""The notifications menu and the email switches, through the pages: each agent sees and marks only
their own; customers have neither."""

from urllib.parse import urlencode

from helpdesk.models import Notification, NotificationSetting
from helpdesk.services import tickets
from helpdesk.services.tickets import TicketChanges
from tests.factories import make_agent, make_customer, make_ticket
from tests.web.conftest import HTMX, csrf_token, sign_in


async def text(response) -> str:
    return await response.get_data(as_text=True)


async def assigned(agent, actor, title: str):
    ticket = await make_ticket(actor=actor, title=title)
    await tickets.update_ticket(
        human_id=ticket.human_id, changes=TicketChanges({"assignee": agent.id}), actor=actor
    )
    return ticket


async def test_the_menu_lists_ones_own_notifications_with_the_unread_count(client):
    tom, ann, bob = await make_agent(name="Tom"), await make_agent(), await make_agent()
    ticket = await assigned(ann, tom, "Printer on fire")
    await assigned(bob, tom, "Bob's secret ticket")
    await sign_in(client, ann)
    page = await text(await client.get("/"))
    assert 'id="notifications-menu"' in page and "notifications.js" in page
    menu = await client.get("/notifications", headers=HTMX)
    body = await text(menu)
    assert menu.status_code == 200 and body.lstrip().startswith('<details id="notifications-menu"')
    assert 'data-unread="1"' in body and "Printer on fire" in body and "secret" not in body
    assert f'href="/tickets/{ticket.human_id}"' in body and f"Tom assigned {ticket.human_id} to you" in body
    full = await text(await client.get("/notifications"))
    assert "<!doctype html>" in full and "Printer on fire" in full


async def test_marking_read_one_then_all_and_never_anothers(client):
    tom, ann, bob = await make_agent(), await make_agent(), await make_agent()
    await assigned(ann, tom, "One")
    await assigned(ann, tom, "Two")
    await assigned(bob, tom, "Three")
    first, second = await Notification.filter(user_id=ann.id).order_by("id")
    bobs = await Notification.get(user_id=bob.id)
    await sign_in(client, ann)
    token = await csrf_token(client, "/notifications")
    refused = await client.post(f"/notifications/{bobs.id}/read", form={"csrf_token": token}, headers=HTMX)
    assert refused.status_code == 404
    no_token = await client.post(f"/notifications/{first.id}/read", form={}, headers=HTMX)
    assert no_token.status_code == 400
    one = await client.post(f"/notifications/{first.id}/read", form={"csrf_token": token}, headers=HTMX)
    assert one.status_code == 200 and 'data-unread="1"' in await text(one) and " open>" in await text(one)
    every = await client.post("/notifications/read", form={"csrf_token": token})
    assert every.status_code == 303
    assert await Notification.filter(read_at__isnull=True).values_list("user_id", flat=True) == [bob.id]
    assert (await Notification.get(id=second.id)).read_at is not None


async def test_customers_have_no_menu_and_no_notifications_page(client):
    customer = await make_customer()
    await sign_in(client, customer)
    page = await text(await client.get("/"))
    assert "notifications-menu" not in page and "notifications.js" not in page
    assert (await client.get("/notifications", headers=HTMX)).status_code == 403
    account = await text(await client.get("/account"))
    assert "Notification emails" not in account


async def test_email_switches_on_the_account_page(client):
    ann = await make_agent()
    await sign_in(client, ann)
    page = await text(await client.get("/account"))
    assert page.count('name="email" value=') == 5 and page.count(" checked>") == 5  # sla: issue 17
    token = await csrf_token(client, "/account")
    saved = await client.post(
        "/notifications/email",
        data=urlencode(
            [("csrf_token", token), ("email", "customer"), ("email", "mentioned"), ("email", "bogus")]
        ),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert saved.status_code == 303
    off = await NotificationSetting.filter(user_id=ann.id, email=False).values_list("kind", flat=True)
    assert sorted(off) == ["assigned", "new_in_group", "sla"]
    assert "Your choice of notification emails is saved." in await text(await client.get(saved.location))
