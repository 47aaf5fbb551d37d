"""Tags in the API: `tags` on a ticket and in PATCH (an extension of the contract), `tag` on the list."""

import re

from helpdesk.services import tags
from tests.api.conftest import TICKET
from tests.api.test_attachments_api import comment, upload
from tests.web.test_ticket_page_queries import logged_queries


async def create(user) -> str:
    response = await user.post("/api/tickets", json=TICKET)
    assert response.status_code == 201, await response.get_data()
    return response.headers["Location"]


async def test_patch_sets_the_tags_and_the_ticket_and_list_show_them(agent):
    ticket_id = await create(agent)
    other = await create(agent)
    response = await agent.patch(f"/api/tickets/{ticket_id}", json={"tags": ["VPN", "outage"]})
    assert response.status_code == 204 and response.headers["Location"] == ticket_id
    [ticket] = (await (await agent.get(f"/api/tickets/{ticket_id}")).get_json())["data"]
    assert ticket["tags"] == ["outage", "vpn"]
    listed = (await (await agent.get("/api/tickets?tag=Outage")).get_json())["data"]
    assert [t["id"] for t in listed] == [ticket_id] and listed[0]["tags"] == ["outage", "vpn"]
    everything = (await (await agent.get("/api/tickets")).get_json())["data"]
    assert {t["id"]: t["tags"] for t in everything}[other] == []
    response = await agent.patch(f"/api/tickets/{ticket_id}", json={"tags": []})
    assert response.status_code == 204
    [ticket] = (await (await agent.get(f"/api/tickets/{ticket_id}")).get_json())["data"]
    assert ticket["tags"] == []


async def test_a_bad_tag_is_422_with_the_error_shape(agent):
    ticket_id = await create(agent)
    response = await agent.patch(f"/api/tickets/{ticket_id}", json={"tags": ["no/slash"]})
    assert response.status_code == 422
    body = await response.get_json()
    assert set(body) >= {"title", "message"}


async def test_customers_neither_see_nor_set_tags(agent, customer):
    ticket_id = await create(agent)
    await tags.add_tag(ticket_id=ticket_id, name="internal-only", actor=agent.user)
    [ticket] = (await (await customer.get(f"/api/tickets/{ticket_id}")).get_json())["data"]
    assert "tags" not in ticket
    listed = (await (await customer.get("/api/tickets")).get_json())["data"]
    assert listed and all("tags" not in t for t in listed)
    assert (await (await customer.get("/api/tickets?tag=internal-only")).get_json())["data"] == []
    response = await customer.patch(f"/api/tickets/{ticket_id}", json={"tags": ["mine"]})
    assert response.status_code == 403


async def test_one_ticket_reads_its_row_and_tags_in_one_statement_and_files_only_when_it_has_some(
    agent, directory
):
    ticket_id = await create(agent)
    await agent.patch(f"/api/tickets/{ticket_id}", json={"tags": ["zulu", "Émile", "alpha"]})
    await agent.get(f"/api/tickets/{ticket_id}")  # the caches of states and organisations warm
    with logged_queries() as log:
        [ticket] = (await (await agent.get(f"/api/tickets/{ticket_id}")).get_json())["data"]
    assert ticket["tags"] == ["alpha", "zulu", "émile"]  # code point order, as the list gives them
    assert ticket["attachments"] == []
    reads = [s for s in log.statements if re.search(r"\bFROM (ticket|ticket_tag|attachment)\b", s)]
    assert len(reads) == 1 and "ticket_tag" in reads[0], "\n".join(log.statements)
    [file] = (await (await upload(agent, ticket_id, ("notes.txt", b"plain words"))).get_json())["data"]
    assert (await comment(agent, ticket_id, attachmentIds=[file["id"]])).status_code == 201
    with logged_queries() as log:
        [ticket] = (await (await agent.get(f"/api/tickets/{ticket_id}")).get_json())["data"]
    assert [a["filename"] for a in ticket["attachments"]] == ["notes.txt"]
    assert len([s for s in log.statements if "FROM attachment a LEFT JOIN" in s]) == 1


async def test_an_agents_lists_read_the_tags_with_the_rows_in_every_order(agent):
    """The page's tags come in its own statement (services/ticket_queries `_listed`), whichever
    walk made the page: by id, by another column, a search by id and a search sorted otherwise."""
    tagged, plain = await create(agent), await create(agent)
    await agent.patch(f"/api/tickets/{tagged}", json={"tags": ["router", "emea"]})
    for query in ("", "?sort=dateUpdated", "?sort=-dateUpdated", "?q=Phones", "?q=Phones&sort=dateCreated"):
        with logged_queries() as log:
            response = await agent.get(f"/api/tickets{query}")
            listed = (await response.get_json()).get("data")
        assert response.status_code == 200, (query, await response.get_data(as_text=True))
        by_id = {t["id"]: t["tags"] for t in listed}
        assert by_id[tagged] == ["emea", "router"] and by_id[plain] == [], query
        assert not [s for s in log.statements if "FROM ticket_tag tt JOIN tag t " in s], query
