"""What one list request may cost (issue 12, finding 11): a customer's page size, a sorted search."""

from helpdesk.services import ticket_queries
from helpdesk.services.tickets import CUSTOMER_PAGE_LIMIT
from tests.factories import make_ticket


async def ids(user, path: str) -> tuple[list[str], str | None]:
    response = await user.get(path)
    assert response.status_code == 200, await response.get_data()
    body = await response.get_json()
    return [t["id"] for t in body["data"]], body["links"]["next"]


async def test_a_customer_page_is_clamped_to_100_and_the_next_link_carries_on(customer, agent):
    made = [(await make_ticket(organisation_hid="ORG-1")).human_id for _ in range(CUSTOMER_PAGE_LIMIT + 2)]
    first, next_link = await ids(customer, "/api/tickets?limit=1000")
    assert first == made[::-1][:CUSTOMER_PAGE_LIMIT] and next_link
    rest, last = await ids(customer, "/api" + next_link)
    assert rest == made[::-1][CUSTOMER_PAGE_LIMIT:] and last is None
    everything, _ = await ids(agent, "/api/tickets?limit=1000")
    assert len(everything) == len(made)


async def test_over_1000_is_still_a_bad_request_for_everyone(customer):
    assert (await customer.get("/api/tickets?limit=1001")).status_code == 400


async def test_a_search_sorted_by_date_walks_a_bounded_stretch_of_that_order(monkeypatch, agent, customer):
    """Each page reads at most SORTED_SEARCH_CANDIDATES tickets in the sort's order after its cursor
    and shows the matches among them: the start of the sorted result, perhaps cut short."""
    monkeypatch.setattr(ticket_queries, "SORTED_SEARCH_CANDIDATES", 3)
    made = [(await make_ticket(title=f"printer jam {n}")).human_id for n in range(5)]
    await make_ticket(title="unrelated")
    for user in (agent, customer):
        oldest_first, next_link = await ids(user, "/api/tickets?q=printer&sort=dateCreated&limit=2")
        assert oldest_first == made[:2]
        more, next_link = await ids(user, "/api" + next_link)
        assert more == made[2:4]
        rest, _ = await ids(user, "/api" + next_link)
        assert rest == made[4:]
        by_id, _ = await ids(user, "/api/tickets?q=printer&sort=id")
        assert by_id == made, "an id-ordered search is not bounded: its index walks the matches in order"
    for _ in range(2):
        await make_ticket(title="unrelated")
    last = (await make_ticket(title="printer jam 5")).human_id
    newest_first, next_link = await ids(agent, "/api/tickets?q=printer&sort=-dateCreated")
    assert newest_first == [last] and next_link is None, "the walk ends after three tickets, two not matching"
