"""Customer pages over real HTTP: find, add, edit, the easel sheet, history, merging duplicates."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html import unescape

import httpx
from sqlalchemy import update

from segone.accounts import service as accounts
from segone.accounts.schemas import SYSTEM, Role, UserCreate
from segone.channels import Channel
from segone.customers import service as customers
from segone.customers.models import Customer
from segone.customers.schemas import CustomerKind
from segone.encounters import service as encounters
from segone.encounters.schemas import EncounterCreate, NewFact
from segone.knowledge.categories.service import in_force as categories_in_force
from segone.knowledge.facts import service as knowledge
from segone.knowledge.facts.schemas import AcknowledgeRequest, DifferentiatorCreate
from segone.segmentation import service as segmentation
from tests.conftest import LiveServer
from tests.factories import MadeUser, make_customer
from tests.web.conftest import csrf_of, field_error, token_of


def _fact(live_server: LiveServer, customer_id: int, text: str, category: str) -> int:
    runtime = live_server.runtime
    with runtime.session() as db:
        fact = knowledge.add(
            db,
            actor=SYSTEM,
            customer_id=customer_id,
            data=DifferentiatorCreate(text=text, category=category),
            categories=categories_in_force(runtime.settings),
        )
        return fact.id


def test_find_customers_by_name_number_or_any_id_with_pages(
    live_server: LiveServer, frontline_client: tuple[httpx.Client, MadeUser]
) -> None:
    client, _ = frontline_client
    ada = make_customer(live_server.runtime, name="Ada Lovelace", identities=["loyalty:LC-777"])
    for n in range(30):
        make_customer(live_server.runtime, name=f"Zed Walker {n:02d}")

    by_name = client.get("/customers", params={"q": "lovelace"}).text
    assert "Ada Lovelace" in by_name and "Zed Walker" not in by_name
    assert "1 customer match" in by_name
    assert "Ada Lovelace" in client.get("/customers", params={"q": "lc-777"}).text
    assert "Ada Lovelace" in client.get("/customers", params={"q": str(ada)}).text

    first = client.get("/customers", params={"q": "walker"}).text
    assert "30 customers match" in first
    assert "Page 1 of 2" in first
    assert first.count('class="customer-card"') == 25
    second = client.get("/customers", params={"q": "walker", "page": "2"}).text
    assert second.count('class="customer-card"') == 5
    assert "Zed Walker 29" in second
    # A silly page number is no error: it shows what there is.
    assert client.get("/customers", params={"page": "-3"}).status_code == 200
    assert client.get("/customers", params={"page": "zz", "kind": "robot"}).status_code == 200

    nobody = client.get("/customers", params={"q": "qwertyuiop"}).text
    assert "Nobody matches" in nobody


def test_a_page_past_the_end_goes_to_the_last_page(
    live_server: LiveServer, frontline_client: tuple[httpx.Client, MadeUser]
) -> None:
    client, _ = frontline_client
    for n in range(27):
        make_customer(live_server.runtime, name=f"Yara Quill {n:02d}")
    make_customer(live_server.runtime, name="Ada Lovelace", kind=CustomerKind.BUSINESS)

    past = client.get("/customers", params={"page": "9999"})
    assert past.status_code == 303 and past.headers["location"] == "/customers?q=&kind=&page=2"
    last = client.get(past.headers["location"]).text
    assert "Page 2 of 2" in last and last.count('class="customer-card"') == 3
    assert "No customers yet" not in last
    # The search and the kind are kept.
    found = client.get("/customers", params={"q": "quill", "kind": "person", "page": "3"})
    assert found.headers["location"] == "/customers?q=quill&kind=person&page=2"
    assert "Yara Quill 26" in client.get(found.headers["location"]).text
    one_page = client.get("/customers", params={"kind": "business", "page": "2"})
    assert one_page.headers["location"] == "/customers?q=&kind=business&page=1"
    assert "Ada Lovelace" in client.get(one_page.headers["location"]).text
    nobody = client.get("/customers", params={"q": "qwertyuiop", "page": "4"})
    assert nobody.headers["location"] == "/customers?q=qwertyuiop&kind=&page=1"
    assert "Nobody matches" in client.get(nobody.headers["location"]).text


def test_new_customer_form_corrects_next_to_the_field(
    live_server: LiveServer, frontline_client: tuple[httpx.Client, MadeUser]
) -> None:
    client, _ = frontline_client
    token = token_of(client, "/customers/new")
    blank = client.post("/customers", data={"csrf_token": token, "name": "  ", "email": "nope"})
    assert blank.status_code == 422
    errors = field_error(blank.text)
    assert "The name may not be blank" in " ".join(errors)
    assert "'nope' does not look like an e-mail address." in errors
    assert 'aria-invalid="true"' in blank.text

    bad_id = client.post(
        "/customers", data={"csrf_token": token, "name": "Bo", "identities": "no colon here"}
    )
    assert bad_id.status_code == 422
    assert any("must look like 'system:id'" in e for e in field_error(bad_id.text))
    assert 'value="Bo"' in bad_id.text  # what was typed is kept

    created = client.post(
        "/customers",
        data={
            "csrf_token": token,
            "name": "Bo Diddley",
            "kind": "business",
            "email": "Bo@Example.com",
            "phone": "0113 496 0000",
            "attributes": "City: Leeds\nStores: 2",
        },
    )
    assert created.status_code == 303
    customer_id = int(created.headers["location"].rsplit("/", 1)[1])
    with live_server.runtime.session() as db:
        out = customers.to_out(customers.get(db, actor=SYSTEM, customer_id=customer_id))
    assert out.kind == CustomerKind.BUSINESS
    assert set(out.identities) == {"email:bo@example.com", "phone:01134960000"}
    assert out.attributes == {"City": "Leeds", "Stores": "2"}

    taken = client.post(
        "/customers", data={"csrf_token": token, "name": "Other Bo", "email": "bo@example.com"}
    )
    assert taken.status_code == 409
    assert any("belong to another customer" in e for e in field_error(taken.text))


def test_edit_details_adds_and_removes_ids_and_details(
    live_server: LiveServer, frontline_client: tuple[httpx.Client, MadeUser]
) -> None:
    client, _ = frontline_client
    customer_id = make_customer(
        live_server.runtime, name="Cleo", identities=["email:cleo@example.com"], attributes={"City": "York"}
    )
    token = token_of(client, f"/customers/{customer_id}/edit")
    response = client.post(
        f"/customers/{customer_id}/edit",
        data={
            "csrf_token": token,
            "name": "Cleo Laine",
            "kind": "person",
            "remove_identity": "email:cleo@example.com",
            "phone": "07700 900123",
            "attributes": "Store: Briggate",
        },
    )
    assert response.status_code == 303
    with live_server.runtime.session() as db:
        out = customers.to_out(customers.get(db, actor=SYSTEM, customer_id=customer_id))
    assert out.name == "Cleo Laine"
    assert out.identities == ["phone:07700900123"]
    assert out.attributes == {"Store": "Briggate"}

    blank = client.post(
        f"/customers/{customer_id}/edit", data={"csrf_token": token, "name": "", "kind": "person"}
    )
    assert blank.status_code == 422
    assert "The name may not be blank." in field_error(blank.text)


def test_details_show_as_people_read_them_and_keep_their_types_when_edited(
    live_server: LiveServer, frontline_client: tuple[httpx.Client, MadeUser]
) -> None:
    client, _ = frontline_client
    runtime = live_server.runtime
    typed = {"VIP": True, "Stores": 2, "Spend": 1250.5, "Since": "2019-03-01"}
    customer_id = make_customer(runtime, name="Dora", attributes=typed)
    with runtime.session() as db:  # a list stored before lists were refused
        db.execute(
            update(Customer)
            .where(Customer.id == customer_id)
            .values(attributes={**typed, "Legacy": [1, 2, {"c": None}]})
        )
    sheet = unescape(client.get(f"/customers/{customer_id}").text)
    shown = dict(re.findall(r"<dt>([^<]+)</dt><dd>([^<]*)</dd>", sheet))
    assert shown == {
        "VIP": "yes",
        "Stores": "2",
        "Spend": "1250.5",
        "Since": "2019-03-01",
        "Legacy": '[1, 2, {"c": null}]',
    }
    assert "{'c': None}" not in sheet and "True" not in shown.values()

    form = unescape(client.get(f"/customers/{customer_id}/edit").text)
    text = 'VIP: yes\nStores: 2\nSpend: 1250.5\nSince: 2019-03-01\nLegacy: [1, 2, {"c": null}]'
    assert text in form
    token = token_of(client, f"/customers/{customer_id}/edit")
    edited = text.replace("VIP: yes", "VIP: no").replace("Stores: 2", "Stores: 3")
    response = client.post(
        f"/customers/{customer_id}/edit",
        data={"csrf_token": token, "name": "Dora", "kind": "person", "attributes": edited},
    )
    assert response.status_code == 303
    with runtime.session() as db:
        out = customers.to_out(customers.get(db, actor=SYSTEM, customer_id=customer_id))
    assert out.attributes == {**typed, "VIP": False, "Stores": 3, "Legacy": [1, 2, {"c": None}]}
    assert type(out.attributes["Stores"]) is int


def test_blank_sheet_teaches_what_to_learn_first_for_its_kind(
    live_server: LiveServer, frontline_client: tuple[httpx.Client, MadeUser]
) -> None:
    client, _ = frontline_client
    business = make_customer(live_server.runtime, name="Acme Ltd", kind=CustomerKind.BUSINESS)
    page = client.get(f"/customers/{business}").text
    assert "This easel sheet is still blank" in page
    assert "Learn these first" in page
    assert "Growth plans" in page and "Where do they want the business to be in two years?" in page
    assert "Family make-up" not in page  # a consumer category has no place on a business's sheet
    options = re.findall(r'<option value="([a-z_]+)"', page)
    assert "growth_plans" in options and "family" not in options
    assert "Nothing known yet" in page
    with live_server.runtime.session() as db:
        customers.note_first_activity(db, {business: datetime(2019, 3, 8, tzinfo=UTC)})
    assert "Customer since March 2019" in client.get(f"/customers/{business}").text


def test_add_acknowledge_edit_and_outdate_differentiators(
    live_server: LiveServer, frontline_client: tuple[httpx.Client, MadeUser]
) -> None:
    client, user = frontline_client
    customer_id = make_customer(live_server.runtime, name="Dana Scully")
    token = token_of(client, f"/customers/{customer_id}")

    wrong_kind = client.post(
        f"/customers/{customer_id}/differentiators",
        data={"csrf_token": token, "text": "Wants a second store", "category": "growth_plans"},
    )
    assert wrong_kind.status_code == 422
    assert any("is a business category" in e for e in field_error(wrong_kind.text))
    assert "Wants a second store" in wrong_kind.text  # kept for correcting
    empty = client.post(f"/customers/{customer_id}/differentiators", data={"csrf_token": token, "text": ""})
    assert empty.status_code == 422
    assert "Write what makes them different." in field_error(empty.text)

    added = client.post(
        f"/customers/{customer_id}/differentiators",
        data={"csrf_token": token, "text": "Runs  a book club\non Thursdays", "category": "free_time"},
    )
    assert added.status_code == 303
    fact_id = int(re.search(r"added=(\d+)", added.headers["location"]).group(1))  # type: ignore[union-attr]
    sheet = client.get(added.headers["location"]).text
    assert "Free time" in sheet  # the category's label, not its name
    assert "Runs a book club on Thursdays" in sheet
    assert "Knows we know 0 of 1 differentiator" in sheet

    acknowledged = client.post(f"/differentiators/{fact_id}/acknowledge", data={"csrf_token": token})
    assert acknowledged.status_code == 303
    sheet = client.get(acknowledged.headers["location"]).text
    assert f'id="fact-{fact_id}"' in sheet
    assert re.search(rf'class="fact known just-circled" id="fact-{fact_id}"', sheet)
    assert 'class="ring' in sheet
    assert "100%" in sheet and "Knows we know 1 of 1 differentiator" in sheet
    with live_server.runtime.session() as db:
        fact = knowledge.get(db, actor=SYSTEM, differentiator_id=fact_id)
        assert fact.acknowledgement is not None
        assert fact.acknowledgement.acknowledged_by_id == user.id
    # Twice is harmless.
    assert (
        client.post(f"/differentiators/{fact_id}/acknowledge", data={"csrf_token": token}).status_code == 303
    )

    edited = client.post(
        f"/differentiators/{fact_id}/edit",
        data={
            "csrf_token": token,
            "text": "Runs a book club on Fridays",
            "category": "free_time",
            "confidence": "0.95",
        },
    )
    assert edited.status_code == 303
    bad_edit = client.post(
        f"/differentiators/{fact_id}/edit", data={"csrf_token": token, "text": "x", "category": "team"}
    )
    assert bad_edit.status_code == 422
    assert "That category is not for a person." in field_error(bad_edit.text)
    assert '<details class="fact-more" open>' in bad_edit.text

    outdated = client.post(
        f"/differentiators/{fact_id}/outdate",
        data={"csrf_token": token, "replacement": "Left the book club; now plays chess"},
    )
    assert outdated.status_code == 303
    sheet = client.get(outdated.headers["location"]).text
    assert "No longer true (1)" in sheet
    assert "<s>Runs a book club on Fridays</s>" in sheet
    assert "Left the book club; now plays chess" in sheet
    again = client.post(f"/differentiators/{fact_id}/acknowledge", data={"csrf_token": token})
    assert again.status_code == 409
    assert "is outdated" in again.text


def test_missing_things_are_friendly_404s(frontline_client: tuple[httpx.Client, MadeUser]) -> None:
    client, _ = frontline_client
    for path in ("/customers/999999", "/customers/abc", "/encounters/424242", "/customers/12/history"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert "text/html" in response.headers["content-type"]
        assert "Not found" in response.text
    token = token_of(client, "/")
    response = client.post("/differentiators/999999/acknowledge", data={"csrf_token": token})
    assert response.status_code == 404
    assert "There is no differentiator 999999." in response.text


def test_merge_a_duplicate_with_a_confirm_step(
    live_server: LiveServer, manager_client: tuple[httpx.Client, MadeUser]
) -> None:
    client, _ = manager_client
    survivor = make_customer(live_server.runtime, name="Eve Moneypenny", attributes={"City": "London"})
    duplicate = make_customer(
        live_server.runtime,
        name="Eve Moneypenny",
        identities=["loyalty:EM-1"],
        attributes={"City": "Leeds", "Pet": "cat"},
    )
    _fact(live_server, duplicate, "Sings in a choir", "free_time")

    form = client.get(f"/customers/{survivor}/merge").text
    assert "Records with the same name" in form and f"?duplicate={duplicate}" in form
    preview = client.get(f"/customers/{survivor}/merge", params={"duplicate": "loyalty:EM-1"})
    assert preview.status_code == 200
    assert "Check before you merge" in preview.text
    assert "1 differentiator" in preview.text
    assert "Detail “City” differs" in preview.text
    with live_server.runtime.session() as db:  # previewing changed nothing
        assert (
            customers.get(db, actor=SYSTEM, customer_id=duplicate, follow_merges=False).merged_into_id is None
        )

    itself = client.get(f"/customers/{survivor}/merge", params={"duplicate": str(survivor)})
    assert "is this customer already" in itself.text
    unknown = client.get(f"/customers/{survivor}/merge", params={"duplicate": "999999"})
    assert unknown.status_code == 404

    token = csrf_of(preview.text)
    done = client.post(
        f"/customers/{survivor}/merge", data={"csrf_token": token, "merged_id": str(duplicate)}
    )
    assert done.status_code == 303
    sheet = client.get(done.headers["location"]).text
    assert "Nothing was lost" in sheet
    assert "Sings in a choir" in sheet
    assert "loyalty:<wbr>EM-1" in sheet  # an id may end a line after its colon

    old = client.get(f"/customers/{duplicate}")
    assert old.status_code == 303 and old.headers["location"] == f"/customers/{survivor}"
    history = client.get(f"/customers/{survivor}/history").text
    assert "Duplicate merged in" in history
    assert "Records merged into this one" in history
    assert "City: Leeds" in history  # the duplicate's differing detail is kept in the history

    twice = client.post(
        f"/customers/{survivor}/merge", data={"csrf_token": token, "merged_id": str(duplicate)}
    )
    assert twice.status_code == 409
    assert "merged into customer" in twice.text


def test_colleagues_are_named_with_their_e_mail_on_hover(
    live_server: LiveServer, manager_client: tuple[httpx.Client, MadeUser]
) -> None:
    client, _ = manager_client
    runtime = live_server.runtime
    customer_id = make_customer(runtime, name="Gwen Harper")
    with runtime.session() as db:
        megan = accounts.create(
            db,
            actor=SYSTEM,
            data=UserCreate(email="megan.clarke@demo.segone.local", name="Megan Clarke", role=Role.FRONTLINE),
        )
        encounter = encounters.record(
            db,
            actor=accounts.actor_for(megan),
            customer_id=customer_id,
            data=EncounterCreate(
                channel=Channel.CALL, facts=[NewFact(text="Keeps bees on the roof", category="free_time")]
            ),
            categories=categories_in_force(runtime.settings),
        )
        (fact_id,) = encounters.to_out_many(db, [encounter])[0].differentiator_ids
        knowledge.acknowledge(
            db, actor=accounts.actor_for(megan), differentiator_id=fact_id, data=AcknowledgeRequest()
        )
        encounter_id = encounter.id
    megan_html = '<span class="person" title="megan.clarke@demo.segone.local">Megan Clarke</span>'
    pages = {
        f"/customers/{customer_id}": 3,  # learned by, circled by, the encounter's line
        f"/customers/{customer_id}/encounters": 1,
        f"/encounters/{encounter_id}": 1,
        f"/customers/{customer_id}/history": 3,  # the encounter, the fact learned, the fact circled
    }
    for path, times in pages.items():
        html = client.get(path).text
        assert html.count(megan_html) == times, path
        assert html.count("megan.clarke@demo.segone.local") == times, f"{path} shows the e-mail as text"


def test_home_shows_recent_customers_and_my_encounters(
    live_server: LiveServer, frontline_client: tuple[httpx.Client, MadeUser]
) -> None:
    client, _ = frontline_client
    empty = client.get("/").text
    assert "No customers yet" in empty
    customer_id = make_customer(live_server.runtime, name="Fay Wray")
    token = token_of(client, f"/customers/{customer_id}/encounters/new")
    logged = client.post(
        f"/customers/{customer_id}/encounters",
        data={"csrf_token": token, "channel": "call", "notes": "Asked about delivery"},
    )
    assert logged.status_code == 303
    home = client.get("/").text
    assert "Recently active customers" in home
    assert "Fay Wray" in home
    assert "Asked about delivery" in home


def test_front_line_sees_the_customer_segment_on_the_sheet(
    live_server: LiveServer, frontline_client: tuple[httpx.Client, MadeUser]
) -> None:
    client, _ = frontline_client
    runtime = live_server.runtime
    gold = make_customer(runtime, name="Gail Gold", attributes={"plan": "gold"})
    basic = make_customer(runtime, name="Bea Basic", attributes={"plan": "basic"})
    make_customer(runtime, name="Bo Basic", attributes={"plan": "basic"})
    assert 'id="segment-path"' not in client.get(f"/customers/{gold}").text  # nothing built yet
    segmentation.build(runtime.sessions, runtime.settings, actor=SYSTEM, variables=["attribute:plan"])
    page = client.get(f"/customers/{gold}").text
    path = page[page.index('id="segment-path"') :]
    assert "plan: gold" in path[:400] and "a segment of one" in path[:400]
    assert "2 customers alike on these" in client.get(f"/customers/{basic}").text
    # How they differ from the average customer, in words, under their segment.
    standing = path[path.index('id="standing"') :]
    assert "plan: gold, like 33 % of customers" in standing[:600]
