"""The catalogue's admin pages over real HTTP: the list, adding and changing an offering with the form,
deactivating it, and a CSV file checked (a preview, nothing written) then imported as it was checked."""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path

import httpx

from segone.accounts.schemas import SYSTEM
from segone.personalisation import service as offerings
from segone.personalisation.schemas import PriceBand
from tests.conftest import LiveServer
from tests.factories import MadeUser
from tests.web.conftest import field_error, token_of

EXAMPLE = Path(__file__).parents[2] / "examples" / "offerings.csv"
LIST = "/admin/offerings"


def _keys(server: LiveServer, *, active_only: bool = False) -> list[str]:
    with server.runtime.session() as db:
        page = offerings.list_offerings(db, actor=SYSTEM, active_only=active_only)
    return sorted(item.key for item in page.items)


def _check(client: httpx.Client, data: bytes) -> httpx.Response:
    token = token_of(client, LIST)
    return client.post(
        LIST + "/import/check",
        data={"csrf_token": token},
        files={"file": ("offerings.csv", data, "text/csv")},
    )


def test_an_offering_is_added_changed_and_deactivated_with_the_forms(
    live_server: LiveServer, admin_client: tuple[httpx.Client, MadeUser]
) -> None:
    client, _admin = admin_client
    page = client.get("/admin/users").text
    assert f'href="{LIST}"' in page  # the admin pages link to each other
    assert "None yet" in client.get(LIST).text

    form = {
        "csrf_token": token_of(client, LIST),
        "key": "guitar-lessons-10",
        "name": "Ten guitar lessons",
        "description": "One a week.",
        "price_band": "50_200",
        "needs": "Learn an instrument\nmusic; practice",
    }
    added = client.post(LIST, data=form)
    assert added.status_code == 303 and added.headers["location"] == LIST
    listed = unescape(client.get(LIST).text)
    assert "Ten guitar lessons (guitar-lessons-10) is in the catalogue." in listed
    assert "$50\u2013200" in listed and "learn an instrument" in listed
    with live_server.runtime.session() as db:
        made = offerings.get_by_key(db, actor=SYSTEM, key="guitar-lessons-10")
    assert made.needs == ["learn an instrument", "music", "practice"]
    assert made.price_band is PriceBand.FROM_50_TO_200

    twice = client.post(LIST, data={**form, "csrf_token": token_of(client, LIST)})
    assert twice.status_code == 409 and "There is an offering" in unescape(twice.text)
    blank = client.post(LIST, data={**form, "key": "a/b", "name": " ", "csrf_token": token_of(client, LIST)})
    assert blank.status_code == 422
    assert field_error(blank.text) == [
        "Please check the fields marked below.",
        "'a/b' is not a key: it may hold no '/' and no control characters",
        "This may not be empty.",
    ]

    edit = LIST + "/guitar-lessons-10/edit"
    saved = client.post(
        edit,
        data={"csrf_token": token_of(client, edit), "name": "Guitar lessons", "price_band": "", "needs": ""},
    )
    assert saved.status_code == 303
    with live_server.runtime.session() as db:
        changed = offerings.get_by_key(db, actor=SYSTEM, key="guitar-lessons-10")
    assert (changed.name, changed.price_band, changed.needs, changed.description) == (
        "Guitar lessons",
        None,
        [],
        "",
    )

    gone = client.post(LIST + "/guitar-lessons-10/deactivate", data={"csrf_token": token_of(client, edit)})
    assert gone.status_code == 303 and _keys(live_server, active_only=True) == []
    assert "deactivated" in client.get(LIST).text
    back = client.post(LIST + "/guitar-lessons-10/activate", data={"csrf_token": token_of(client, edit)})
    assert back.status_code == 303 and _keys(live_server, active_only=True) == ["guitar-lessons-10"]
    assert client.get(LIST + "/nope/edit").status_code == 404


def test_a_file_is_checked_with_a_preview_then_imported_as_checked(
    live_server: LiveServer, admin_client: tuple[httpx.Client, MadeUser]
) -> None:
    client, _admin = admin_client
    checked = _check(client, EXAMPLE.read_bytes())
    assert checked.status_code == 200, checked.text
    page = unescape(checked.text)
    assert "offerings.csv</strong>: 5 rows, read as utf-8." in page
    assert "5 new offerings, 0 changed, 0 unchanged." in page
    assert page.count('<tr class="outcome-create">') == 5
    assert _keys(live_server) == []

    hidden = dict(re.findall(r'type="hidden" name="(upload|file_name)" value="([^"]*)"', checked.text))
    imported = client.post(LIST + "/import", data={"csrf_token": token_of(client, LIST), **hidden})
    assert imported.status_code == 303
    assert "Imported offerings.csv: 5 new offerings, 0 changed, 0 unchanged." in unescape(
        client.get(LIST).text
    )
    assert len(_keys(live_server)) == 5

    again = unescape(_check(client, EXAMPLE.read_bytes()).text)
    assert "there is nothing to import" in again and 'action="/admin/offerings/import"' not in again


def test_a_bad_file_names_every_bad_row_and_offers_no_import(
    live_server: LiveServer, admin_client: tuple[httpx.Client, MadeUser]
) -> None:
    client, _admin = admin_client
    checked = _check(client, b"key,name,price_band\nok,Fine,\nbad/key,,cheap\n")
    assert checked.status_code == 422
    page = unescape(checked.text)
    assert "1 of the 2 rows is bad (dry run: nothing was written)." in page
    assert "Row 3, key: 'bad/key' is not a key" in page
    assert "Row 3, price_band: 'cheap' is not a price band" in page
    assert 'action="/admin/offerings/import"' not in page
    assert _keys(live_server) == []
    refused = client.post(LIST + "/import/check", data={"csrf_token": token_of(client, LIST)})
    assert refused.status_code == 422 and "Choose the file to check." in refused.text
