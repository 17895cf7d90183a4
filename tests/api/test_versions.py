"""Optimistic versions over real HTTP: of two edits of a customer or a fact made from the same version,
exactly one wins and the other gets 409 with the winner's version; an edit naming no version still works."""

from __future__ import annotations

import threading
from typing import Any

import httpx

from segone.runtime import Runtime
from tests.api.conftest import ClientFactory
from tests.api.helpers import api_user, error_of, fields_at_fault
from tests.factories import make_customer


def _at_once(calls: list[tuple[httpx.Client, str, dict[str, Any], dict[str, str]]]) -> list[httpx.Response]:
    """PATCH from several threads released together, so that the requests overlap on the server."""
    start = threading.Barrier(len(calls))
    answers: list[httpx.Response | None] = [None] * len(calls)

    def send(n: int) -> None:
        client, path, body, headers = calls[n]
        start.wait()
        answers[n] = client.patch(path, json=body, headers=headers)

    threads = [threading.Thread(target=send, args=(n,)) for n in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert all(answer is not None for answer in answers)
    return [a for a in answers if a is not None]


def test_concurrent_customer_edits_from_one_version(runtime: Runtime, api: ClientFactory) -> None:
    cid = make_customer(runtime, name="Ann Original")
    ann, bob = api(api_user(runtime).token), api(api_user(runtime).token)
    for round_ in range(4):
        read = ann.get(f"/customers/{cid}")
        version = read.json()["version"]
        assert read.headers["ETag"] == f'"{version}"'
        # One names its version in If-Match, the other in the body: both ways are checked the same.
        first, second = _at_once(
            [
                (ann, f"/customers/{cid}", {"name": f"Ann {round_}"}, {"If-Match": read.headers["ETag"]}),
                (bob, f"/customers/{cid}", {"name": f"Bob {round_}", "version": version}, {}),
            ]
        )
        assert sorted([first.status_code, second.status_code]) == [200, 409], (first.text, second.text)
        winner, loser = (first, second) if first.status_code == 200 else (second, first)
        assert winner.json()["version"] == version + 1
        assert winner.headers["ETag"] == f'"{version + 1}"'
        error = error_of(loser, 409, "version_conflict")
        assert "changed by someone else since you opened it" in error["message"]
        assert error["details"]["version"] == version + 1
        assert error["details"]["current"]["name"] == winner.json()["name"]
        assert error["details"]["current"]["version"] == version + 1
        now = ann.get(f"/customers/{cid}").json()
        assert (now["name"], now["version"]) == (winner.json()["name"], version + 1)
    history = ann.get(f"/customers/{cid}/history").json()
    assert sum(1 for entry in history if entry["action"] == "customer.updated") == 4


def test_concurrent_fact_edits_from_one_version(runtime: Runtime, api: ClientFactory) -> None:
    cid = make_customer(runtime)
    ann, bob = api(api_user(runtime).token), api(api_user(runtime).token)
    added = ann.post(f"/customers/{cid}/differentiators", json={"text": "Two kids", "category": "family"})
    fact = added.json()["id"]
    assert added.json()["version"] == 1
    for round_ in range(4):
        read = bob.get(f"/differentiators/{fact}")
        assert read.status_code == 200, read.text
        version = read.json()["version"]
        assert read.headers["ETag"] == f'"{version}"'
        first, second = _at_once(
            [
                (ann, f"/differentiators/{fact}", {"text": f"Three kids {round_}", "version": version}, {}),
                (
                    bob,
                    f"/differentiators/{fact}",
                    {"text": f"Four kids {round_}"},
                    {"If-Match": f'"{version}"'},
                ),
            ]
        )
        assert sorted([first.status_code, second.status_code]) == [200, 409], (first.text, second.text)
        winner, loser = (first, second) if first.status_code == 200 else (second, first)
        error = error_of(loser, 409, "version_conflict")
        assert error["details"]["version"] == winner.json()["version"] == version + 1
        assert error["details"]["current"]["text"] == winner.json()["text"]
    assert bob.get(f"/differentiators/{fact}").json()["version"] == 5


def test_an_edit_naming_no_version_is_made_whatever_the_version(runtime: Runtime, api: ClientFactory) -> None:
    cid = make_customer(runtime)
    client = api(api_user(runtime).token)
    assert client.patch(f"/customers/{cid}", json={"name": "First"}).json()["version"] == 2
    assert client.patch(f"/customers/{cid}", json={"name": "Second"}).json()["version"] == 3
    # "*" matches any version, as in HTTP.
    assert (
        client.patch(f"/customers/{cid}", json={"name": "Third"}, headers={"If-Match": "*"}).status_code
        == 200
    )
    # An edit that changes nothing leaves the version, so nobody else's open form goes stale.
    assert client.patch(f"/customers/{cid}", json={"name": "Third", "version": 4}).json()["version"] == 4
    stale = client.patch(f"/customers/{cid}", json={"name": "Fourth", "version": 2})
    assert error_of(stale, 409, "version_conflict")["details"]["current"]["name"] == "Third"
    assert client.get(f"/customers/{cid}").json()["name"] == "Third"


def test_bad_versions_are_refused(runtime: Runtime, api: ClientFactory) -> None:
    cid = make_customer(runtime)
    client = api(api_user(runtime).token)
    assert fields_at_fault(
        client.patch(f"/customers/{cid}", json={"name": "x"}, headers={"If-Match": "v1"})
    ) == {"If-Match"}
    assert fields_at_fault(
        client.patch(f"/customers/{cid}", json={"name": "x", "version": 2}, headers={"If-Match": '"1"'})
    ) == {"version"}
    assert fields_at_fault(client.patch(f"/customers/{cid}", json={"name": "x", "version": 0})) == {"version"}
    assert client.get(f"/customers/{cid}").json()["version"] == 1
