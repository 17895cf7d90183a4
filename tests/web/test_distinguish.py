"""The easel sheet tells how well we can tell the customer apart: headline, rarity badges, what to ask."""

from __future__ import annotations

import re

import httpx

from segone.accounts.schemas import SYSTEM
from segone.knowledge.categories.service import in_force as categories_in_force
from segone.knowledge.distinguishability import refresh
from segone.knowledge.facts import service as knowledge
from segone.knowledge.facts.schemas import DifferentiatorCreate
from tests.conftest import LiveServer
from tests.factories import MadeUser, make_customer


def _box(html: str) -> str:
    match = re.search(r'<div id="distinguish".*?</div>', html, re.S)
    assert match, "the sheet says nothing about distinguishability"
    return match.group(0)


def test_the_sheet_shows_rarity_look_alikes_and_the_next_question(
    live_server: LiveServer, frontline_client: tuple[httpx.Client, MadeUser]
) -> None:
    client, _ = frontline_client
    runtime = live_server.runtime
    ann, bo = make_customer(runtime, name="Ann Archer"), make_customer(runtime, name="Bo Bright")
    with runtime.session() as db:
        for customer, text in (
            (ann, "Keeps bees on the roof"),
            (ann, "Has two children"),
            (bo, "Has two children"),
        ):
            knowledge.add(
                db,
                actor=SYSTEM,
                customer_id=customer,
                data=DifferentiatorCreate(text=text, category="family"),
                categories=categories_in_force(runtime.settings),
            )
    assert "Not measured yet" in _box(client.get(f"/customers/{bo}").text)

    refresh.refresh(runtime.sessions, runtime.settings, actor=SYSTEM)
    bo_page = client.get(f"/customers/{bo}").text
    box = _box(bo_page)
    assert "1 customer looks like this one to us." in box and f'href="/customers/{ann}">Ann Archer<' in box
    assert "Ask about lifestyle: “What does a typical week look like for them?”" in box
    # Both customers whose family we know have two children: common among them, and said so.
    assert (
        '<span class="rarity" title="Trait: Has two children">'
        "Common: 2 of 2 customers we know about in family make-up (100%)</span>"
    ) in bo_page

    ann_page = client.get(f"/customers/{ann}").text
    ann_box = _box(ann_page)
    assert "A segment of one" in ann_box and "Show them you know:" in ann_box and "Keeps bees" in ann_box
    assert '<span class="rarity rare"' in ann_page
    assert ">Only them, among 2 customers we know about in family make-up<" in ann_page


def test_a_rare_badge_gives_its_denominator(
    live_server: LiveServer, frontline_client: tuple[httpx.Client, MadeUser]
) -> None:
    """Two of forty customers whose family we know have twins: rare, counted among those forty, not among
    every customer (ten more we know nothing about)."""
    client, _ = frontline_client
    runtime = live_server.runtime
    for _ in range(10):
        make_customer(runtime)
    family = [make_customer(runtime) for _ in range(40)]
    with runtime.session() as db:
        for n, customer in enumerate(family):
            knowledge.add(
                db,
                actor=SYSTEM,
                customer_id=customer,
                data=DifferentiatorCreate(
                    text="Has twins" if n < 2 else f"Lives with {n} cousins and an aunt", category="family"
                ),
                categories=categories_in_force(runtime.settings),
            )
    refresh.refresh(runtime.sessions, runtime.settings, actor=SYSTEM)
    page = client.get(f"/customers/{family[0]}").text
    assert (
        '<span class="rarity rare" title="Trait: Has twins">'
        "Rare: 2 of 40 customers we know about in family make-up</span>"
    ) in page
