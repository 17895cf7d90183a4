"""Named audiences on a real store (SQLite and PostgreSQL): saved from a segment, evaluated again after each
build on the customers' values of the day, hand changes kept, stale when a variable is gone."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from segone.accounts.schemas import SYSTEM, Role
from segone.customers import service as customers
from segone.customers.schemas import CustomerUpdate
from segone.errors import Conflict, Forbidden, Invalid, NotFound
from segone.knowledge.categories.service import in_force
from segone.knowledge.facts import service as facts
from segone.knowledge.facts.schemas import DifferentiatorCreate
from segone.runtime import Runtime
from segone.segmentation import audiences, service
from segone.segmentation.models import Audience
from segone.segmentation.schemas import AudienceOut, VersionOut, VersionStatus
from segone.views import merge
from tests.factories import make_customer, make_user


def _planted(runtime: Runtime) -> dict[str, list[int]]:
    gold = [make_customer(runtime, attributes={"plan": "gold", "spend": 900 + 10 * i}) for i in range(4)]
    basic = [make_customer(runtime, attributes={"plan": "basic", "spend": 10 + i}) for i in range(4)]
    return {"gold": gold, "basic": basic}


def _build(runtime: Runtime, *variables: str, **settings: Any) -> VersionOut:
    return service.build(
        runtime.sessions, runtime.settings, actor=SYSTEM, variables=list(variables), max_depth=1, **settings
    )


def _node(runtime: Runtime, version_id: int, words: list[str]) -> int:
    with runtime.session() as db:
        found = service.segments(db, actor=SYSTEM, version_id=version_id, max_depth=1)
    return next(s.node_id for s in found if s.conditions == words)


def _save(runtime: Runtime, name: str, version_id: int, node_id: int) -> AudienceOut:
    with runtime.session() as db:
        return service.save_audience(
            db, runtime.settings, actor=SYSTEM, name=name, version_id=version_id, node_id=node_id
        )


def _members(runtime: Runtime, audience_id: int) -> list[int]:
    with runtime.session() as db:
        page, total = service.audience_members(db, actor=SYSTEM, audience_id=audience_id)
    assert total == len(page)
    return [m.customer_id for m in page]


def _set(runtime: Runtime, customer_id: int, **attributes: Any) -> None:
    with runtime.session() as db:
        customers.update(
            db, actor=SYSTEM, customer_id=customer_id, data=CustomerUpdate(attributes=attributes)
        )


def _audience(runtime: Runtime, audience_id: int) -> AudienceOut:
    with runtime.session() as db:
        return service.get_audience(db, actor=SYSTEM, audience_id=audience_id)


def test_an_audience_keeps_its_segments_conditions_and_follows_each_build(runtime: Runtime) -> None:
    groups = _planted(runtime)
    first = _build(runtime, "attribute:plan")
    gold_node = _node(runtime, first.id, ["plan: gold"])
    saved = _save(runtime, "  Gold   customers ", first.id, gold_node)

    assert saved.name == "Gold customers" and saved.conditions == ["plan: gold"]
    rule = {"variable": "attribute:plan", "threshold": None, "above": False, "levels": ["gold"]}
    assert saved.rules == [{**rule, "missing": False, "or_unknown": False, "label": "plan"}]
    assert (saved.version_id, saved.node_id, saved.created_by_id, saved.created_by) == (
        first.id, gold_node, None, None,
    )  # fmt: skip
    assert saved.size == saved.matched == 4 and saved.added == saved.removed == 0
    assert saved.evaluated_at is not None and saved.evaluated_version_id is None and saved.stale is None
    assert _members(runtime, saved.id) == sorted(groups["gold"])

    # One gold customer turns basic, one basic turns gold, and a gold customer is new: the next build of
    # any variables evaluates the audience again on today's values.
    leaver, joiner = groups["gold"][0], groups["basic"][0]
    _set(runtime, leaver, plan="basic")
    _set(runtime, joiner, plan="gold")
    newcomer = make_customer(runtime, attributes={"plan": "gold", "spend": 5})
    second = _build(runtime, "attribute:spend")

    after = _audience(runtime, saved.id)
    assert after.evaluated_version_id == after.checked_version_id == second.id
    assert after.evaluated_at is not None and after.evaluated_at >= saved.evaluated_at
    assert _members(runtime, saved.id) == sorted([*groups["gold"][1:], joiner, newcomer])
    assert after.size == after.matched == 5
    # The audience keeps the words and the rules it was saved with, whatever the new tree splits on.
    assert after.conditions == ["plan: gold"] and after.version_id == first.id


def test_saved_right_after_its_build_every_segment_holds_exactly_its_customers(runtime: Runtime) -> None:
    """Yes/no, knowledge flags, categories and missing values: the saved conditions select what the tree
    put in each segment."""
    ids = [
        make_customer(
            runtime, attributes={"vip": "yes" if i % 2 else "no", "plan": "gold" if i < 3 else None}
        )
        for i in range(6)
    ]
    with runtime.session() as db:
        facts.add(
            db,
            actor=SYSTEM,
            customer_id=ids[0],
            data=DifferentiatorCreate(text="Has two children", category="family"),
            categories=in_force(runtime.settings),
        )
    version = service.build(
        runtime.sessions,
        runtime.settings,
        actor=SYSTEM,
        variables=["attribute:vip", "knows:family", "attribute:plan"],
    )
    with runtime.session() as db:
        found = service.segments(db, actor=SYSTEM, version_id=version.id)
    assert any(s.conditions[-1:] == ["plan: unknown"] for s in found)
    for segment in found:
        audience = _save(runtime, f"segment {segment.node_id}", version.id, segment.node_id)
        with runtime.session() as db:
            expected = service.members(db, actor=SYSTEM, version_id=version.id, node_id=segment.node_id)
        assert audience.stale is None and _members(runtime, audience.id) == expected, segment.conditions


def test_hand_changes_are_kept_by_whom_and_survive_every_evaluation(runtime: Runtime) -> None:
    groups = _planted(runtime)
    version = _build(runtime, "attribute:plan")
    audience = _save(runtime, "gold", version.id, _node(runtime, version.id, ["plan: gold"]))
    analyst = make_user(runtime, Role.ANALYST)
    pinned, dropped = groups["basic"][1], groups["gold"][1]
    with runtime.session() as db:
        added = service.add_to_audience(db, actor=analyst.actor, audience_id=audience.id, customer_id=pinned)
        removed = service.remove_from_audience(
            db, actor=analyst.actor, audience_id=audience.id, customer_id=dropped
        )
    assert (added.size, added.added, added.removed) == (5, 1, 0)
    assert (removed.size, removed.added, removed.removed) == (4, 1, 1)
    expected = sorted({*groups["gold"], pinned} - {dropped})
    assert _members(runtime, audience.id) == expected

    _build(runtime, "attribute:spend")  # nobody's values changed: the hand changes stay
    _set(runtime, dropped, plan="gold", spend=1)  # meets the conditions again, and stays out
    with runtime.session() as db:
        refreshed = service.refresh_audience(db, runtime.settings, actor=SYSTEM, audience_id=audience.id)
        page, total = service.audience_members(db, actor=SYSTEM, audience_id=audience.id, limit=2, offset=3)
        edits = service.audience_edits(db, actor=SYSTEM, audience_id=audience.id)
    assert _members(runtime, audience.id) == expected
    assert (refreshed.size, refreshed.matched, refreshed.evaluated_version_id) == (4, 4, None)
    assert total == 4 and [(m.customer_id, m.added_by_hand) for m in page] == [
        (c, c == pinned) for c in expected[3:5]
    ]
    assert [(e.customer_id, e.added, e.by_id, e.by) for e in edits] == [
        (dropped, False, analyst.id, analyst.email),
        (pinned, True, analyst.id, analyst.email),
    ]

    # Adding back by hand replaces the removal: the latest decision about a customer wins.
    with runtime.session() as db:
        again = service.add_to_audience(db, actor=SYSTEM, audience_id=audience.id, customer_id=dropped)
    assert (again.size, again.added, again.removed) == (5, 2, 0)


def test_a_hand_change_follows_a_customer_into_the_record_they_were_merged_into(runtime: Runtime) -> None:
    groups = _planted(runtime)
    version = _build(runtime, "attribute:plan")
    audience = _save(runtime, "gold", version.id, _node(runtime, version.id, ["plan: gold"]))
    duplicate, survivor = groups["basic"][2], groups["basic"][3]
    with runtime.session() as db:
        service.add_to_audience(db, actor=SYSTEM, audience_id=audience.id, customer_id=duplicate)
        merge.merge(db, actor=SYSTEM, survivor_id=survivor, merged_id=duplicate)
    _build(runtime, "attribute:plan")
    assert _members(runtime, audience.id) == sorted([*groups["gold"], survivor])
    # A merged record named by hand is its survivor.
    with runtime.session() as db:
        service.remove_from_audience(db, actor=SYSTEM, audience_id=audience.id, customer_id=duplicate)
        edits = service.audience_edits(db, actor=SYSTEM, audience_id=audience.id)
    assert _members(runtime, audience.id) == sorted(groups["gold"])
    assert {(e.customer_id, e.added) for e in edits} == {(duplicate, True), (survivor, False)}


def test_a_numeric_segment_and_the_root_are_evaluated_on_todays_values(runtime: Runtime) -> None:
    groups = _planted(runtime)
    version = _build(runtime, "attribute:spend")
    with runtime.session() as db:
        top = service.segments(db, actor=SYSTEM, version_id=version.id, max_depth=1)
    high = next(s for s in top if s.depth == 1 and s.size == 4 and "or more" in s.conditions[0])
    big = _save(runtime, "big spenders", version.id, high.node_id)
    everyone = _save(runtime, "everyone", version.id, 0)
    assert big.rules[0]["above"] is True and big.rules[0]["threshold"] is not None
    assert everyone.rules == [] and everyone.conditions == []
    assert _members(runtime, big.id) == sorted(groups["gold"])

    _set(runtime, groups["basic"][0], spend=10_000)
    latecomer = make_customer(runtime, attributes={"plan": "basic"})  # no spend: missing is not "or more"
    with runtime.session() as db:
        assert service.refresh_audience(db, runtime.settings, actor=SYSTEM, audience_id=big.id).size == 5
    assert _members(runtime, big.id) == sorted([*groups["gold"], groups["basic"][0]])
    refreshed = service.refresh_audiences(runtime.sessions, runtime.settings, actor=SYSTEM)
    assert [a.name for a in refreshed] == ["big spenders", "everyone"]
    assert _members(runtime, everyone.id) == sorted([*groups["gold"], *groups["basic"], latecomer])


def test_an_audience_whose_variable_is_gone_is_stale_and_keeps_its_members(runtime: Runtime) -> None:
    groups = _planted(runtime)
    version = _build(runtime, "attribute:plan")
    gold = _save(runtime, "gold", version.id, _node(runtime, version.id, ["plan: gold"]))
    basic = _save(runtime, "basic", version.id, _node(runtime, version.id, ["plan: basic"]))
    for customer in groups["gold"] + groups["basic"]:
        _set(runtime, customer, plan=None)

    later = _build(runtime, "attribute:spend")  # the build stands
    assert later.status is VersionStatus.DONE
    with runtime.session() as db:
        listed = service.list_audiences(db, actor=SYSTEM)
    assert [a.name for a in listed] == ["basic", "gold"]
    for audience in listed:
        assert audience.stale == "The variable attribute:plan no longer exists."
        assert audience.checked_version_id == later.id and audience.evaluated_version_id is None
    assert _members(runtime, gold.id) == sorted(groups["gold"])
    assert _members(runtime, basic.id) == sorted(groups["basic"])

    # The values come back: the next evaluation clears the mark.
    for customer in groups["gold"]:
        _set(runtime, customer, plan="gold")
    with runtime.session() as db:
        fresh = service.refresh_audience(db, runtime.settings, actor=SYSTEM, audience_id=gold.id)
    assert fresh.stale is None and fresh.size == 4


def test_an_audience_that_fails_for_any_reason_never_fails_the_build(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    groups = _planted(runtime)
    version = _build(runtime, "attribute:plan")
    audience = _save(runtime, "gold", version.id, _node(runtime, version.id, ["plan: gold"]))

    def broken(*args: object) -> None:
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(audiences, "_hand_decisions", broken)
    later = _build(runtime, "attribute:plan")
    assert later.status is VersionStatus.DONE
    stale = _audience(runtime, audience.id)
    assert stale.stale == "RuntimeError: the disk is full" and stale.checked_version_id == later.id
    assert _members(runtime, audience.id) == sorted(groups["gold"])


def test_a_variable_that_means_something_else_now_makes_the_audience_stale(runtime: Runtime) -> None:
    _planted(runtime)
    version = _build(runtime, "attribute:plan")
    audience = _save(runtime, "gold", version.id, _node(runtime, version.id, ["plan: gold"]))
    # What a knowledge refresh does to a trait: the same name, another label.
    with runtime.session() as db:
        row = db.get(Audience, audience.id)
        assert row is not None
        row.rules = [{**row.rules[0], "label": "plan of old"}]
    with runtime.session() as db:
        stale = service.refresh_audience(db, runtime.settings, actor=SYSTEM, audience_id=audience.id)
    assert stale.stale == (
        "attribute:plan now reads 'plan', not 'plan of old' as when the audience was saved (a knowledge "
        "refresh numbers the traits anew)."
    )
    assert stale.size == 4


def test_bad_requests_are_refused_clearly(runtime: Runtime) -> None:
    groups = _planted(runtime)
    version = _build(runtime, "attribute:plan")
    node = _node(runtime, version.id, ["plan: gold"])
    audience = _save(runtime, "gold", version.id, node)
    with runtime.session() as db:
        with pytest.raises(Conflict, match="There is an audience named 'gold' already"):
            service.save_audience(
                db, runtime.settings, actor=SYSTEM, name="gold", version_id=version.id, node_id=0
            )
        with pytest.raises(Invalid, match="An audience needs a name"):
            service.save_audience(
                db, runtime.settings, actor=SYSTEM, name="  ", version_id=version.id, node_id=0
            )
        with pytest.raises(NotFound, match="There is no segmentation version 99"):
            service.save_audience(db, runtime.settings, actor=SYSTEM, name="x", version_id=99, node_id=0)
        with pytest.raises(NotFound, match=f"Version {version.id} has no segment 99"):
            service.save_audience(
                db, runtime.settings, actor=SYSTEM, name="x", version_id=version.id, node_id=99
            )
        with pytest.raises(NotFound, match=r"There is no audience named 'glod' \(did you mean 'gold'\?\)"):
            service.audience_named(db, actor=SYSTEM, name="glod")
        with pytest.raises(NotFound, match="There is no customer 9999"):
            service.add_to_audience(db, actor=SYSTEM, audience_id=audience.id, customer_id=9999)
        with pytest.raises(NotFound, match="There is no audience 99"):
            service.remove_from_audience(db, actor=SYSTEM, audience_id=99, customer_id=groups["gold"][0])
    with runtime.session() as db:
        assert service.audience_named(db, actor=SYSTEM, name=" gold ").id == audience.id
        gone = service.delete_audience(db, actor=SYSTEM, audience_id=audience.id)
        assert gone.name == "gold"
    with runtime.session() as db:
        assert service.list_audiences(db, actor=SYSTEM) == []
        assert db.scalars(select(Audience)).all() == []


def test_managers_read_audiences_and_analysts_change_them(runtime: Runtime) -> None:
    groups = _planted(runtime)
    version = _build(runtime, "attribute:plan")
    node = _node(runtime, version.id, ["plan: gold"])
    frontline, manager = make_user(runtime, Role.FRONTLINE), make_user(runtime, Role.MANAGER)
    analyst = make_user(runtime, Role.ANALYST)
    with runtime.session() as db:
        with pytest.raises(Forbidden):
            service.save_audience(
                db, runtime.settings, actor=manager.actor, name="gold", version_id=version.id, node_id=node
            )
        saved = service.save_audience(
            db, runtime.settings, actor=analyst.actor, name="gold", version_id=version.id, node_id=node
        )
    assert saved.created_by_id == analyst.id and saved.created_by == analyst.email
    with runtime.session() as db:
        assert [a.id for a in service.list_audiences(db, actor=manager.actor)] == [saved.id]
        assert service.audience_members(db, actor=manager.actor, audience_id=saved.id)[1] == 4
        for change in (service.add_to_audience, service.remove_from_audience):
            with pytest.raises(Forbidden):
                change(db, actor=manager.actor, audience_id=saved.id, customer_id=groups["basic"][0])
        with pytest.raises(Forbidden):
            service.refresh_audience(db, runtime.settings, actor=manager.actor, audience_id=saved.id)
        with pytest.raises(Forbidden):
            service.delete_audience(db, actor=manager.actor, audience_id=saved.id)
        with pytest.raises(Forbidden):
            service.list_audiences(db, actor=frontline.actor)
