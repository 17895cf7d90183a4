"""The catalogue's use cases on SQLite and PostgreSQL: who may read and change it, search, deactivation,
the audit trail, and the purchases the events dataset holds of an offering."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from sqlalchemy import select

from segone.accounts.models import AuditEntry
from segone.accounts.schemas import SYSTEM, Role
from segone.behaviour import ingest
from segone.behaviour import service as behaviour
from segone.errors import Conflict, Forbidden, NotFound
from segone.personalisation import service as offerings
from segone.personalisation.schemas import (
    OfferingCreate,
    OfferingUpdate,
    PriceBand,
    parse_price_band,
    price_band_label,
)
from segone.runtime import Runtime
from tests.behaviour.conftest import DUCKDB_WARNING
from tests.factories import make_user

GUITAR = OfferingCreate(
    key="guitar-lessons-10",
    name="Ten guitar lessons",
    description="One lesson a week with a teacher from the shop.",
    attributes={"lessons": 10, "level": "beginner"},
    price_band=PriceBand.FROM_50_TO_200,
    needs=["Learn an  Instrument", "learn an instrument", "music"],
)


def test_an_offering_is_created_read_by_key_and_listed(runtime: Runtime) -> None:
    with runtime.session() as db:
        made = offerings.create(db, actor=SYSTEM, data=GUITAR)
    assert made.needs == ["learn an instrument", "music"]
    with runtime.session() as db:
        found = offerings.get_by_key(db, actor=SYSTEM, key="guitar-lessons-10")
        assert offerings.get(db, actor=SYSTEM, offering_id=made.id) == found
        page = offerings.list_offerings(db, actor=SYSTEM)
    assert found.attributes == {"lessons": 10, "level": "beginner"}
    assert found.price_band is PriceBand.FROM_50_TO_200
    assert [item.key for item in page.items] == ["guitar-lessons-10"] and page.total == 1


def test_a_key_is_unique_and_stays_what_events_carry(runtime: Runtime) -> None:
    with runtime.session() as db:
        offerings.create(db, actor=SYSTEM, data=GUITAR)
    with runtime.session() as db, pytest.raises(Conflict, match="guitar-lessons-10"):
        offerings.create(db, actor=SYSTEM, data=GUITAR)
    for bad in ("a/b", " ", "tab\there"):
        with pytest.raises(ValidationError):
            OfferingCreate(key=bad, name="x")
    with runtime.session() as db, pytest.raises(NotFound, match="no offering 'nope'"):
        offerings.get_by_key(db, actor=SYSTEM, key="nope")


def test_search_finds_by_name_key_description_and_needs_in_any_case(runtime: Runtime) -> None:
    with runtime.session() as db:
        offerings.create(db, actor=SYSTEM, data=GUITAR)
        offerings.create(
            db, actor=SYSTEM, data=OfferingCreate(key="repair-50%", name="Bike repair", needs=["repair"])
        )
    with runtime.session() as db:

        def keys(search: str) -> list[str]:
            return [o.key for o in offerings.list_offerings(db, actor=SYSTEM, search=search).items]

        assert keys("GUITAR") == ["guitar-lessons-10"]
        assert keys("teacher") == ["guitar-lessons-10"]
        assert keys("instrument") == ["guitar-lessons-10"]
        assert keys("repair") == ["repair-50%"]
        assert keys("50%") == ["repair-50%"]  # a % is a character searched for, not a wildcard
        assert keys("e") == ["repair-50%", "guitar-lessons-10"]  # by name


def test_deactivated_offerings_leave_the_active_list_and_stay_readable(runtime: Runtime) -> None:
    with runtime.session() as db:
        offerings.create(db, actor=SYSTEM, data=GUITAR)
    with runtime.session() as db:
        out = offerings.deactivate(db, actor=SYSTEM, key="guitar-lessons-10")
    assert out.active is False
    with runtime.session() as db:
        assert offerings.list_offerings(db, actor=SYSTEM).total == 0
        assert offerings.list_offerings(db, actor=SYSTEM, active_only=False).total == 1
        assert offerings.get_by_key(db, actor=SYSTEM, key="guitar-lessons-10").active is False
        actions = list(db.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))
    assert actions == ["offering.created", "offering.deactivated"]


def test_an_update_changes_the_fields_sent_and_records_them(runtime: Runtime) -> None:
    with runtime.session() as db:
        offerings.create(db, actor=SYSTEM, data=GUITAR)
    with runtime.session() as db:
        out = offerings.update(
            db,
            actor=SYSTEM,
            key="guitar-lessons-10",
            data=OfferingUpdate(name="Ten guitar lessons, any level", price_band=None, needs=["Music"]),
        )
    assert (out.name, out.price_band, out.needs) == ("Ten guitar lessons, any level", None, ["music"])
    assert out.description == GUITAR.description and out.attributes == GUITAR.attributes
    with runtime.session() as db:
        entry = db.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
        assert entry is not None and entry.action == "offering.updated"
        assert entry.details["price_band"] == {"from": "50_200", "to": None}
        again = offerings.update(
            db, actor=SYSTEM, key="guitar-lessons-10", data=OfferingUpdate(needs=["music"])
        )
        assert again.updated_at == out.updated_at  # nothing changed, nothing recorded
        assert db.scalar(select(AuditEntry.id).order_by(AuditEntry.id.desc())) == entry.id


def test_front_line_staff_read_the_catalogue_and_only_administrators_change_it(runtime: Runtime) -> None:
    with runtime.session() as db:
        offerings.create(db, actor=SYSTEM, data=GUITAR)
    frontline = make_user(runtime, Role.FRONTLINE).actor
    analyst = make_user(runtime, Role.ANALYST).actor
    with runtime.session() as db:
        assert offerings.list_offerings(db, actor=frontline).total == 1
        assert offerings.get_by_key(db, actor=frontline, key=GUITAR.key).key == GUITAR.key
        for actor in (frontline, analyst):
            with pytest.raises(Forbidden, match="manage settings"):
                offerings.update(db, actor=actor, key=GUITAR.key, data=OfferingUpdate(name="x"))
            with pytest.raises(Forbidden):
                offerings.deactivate(db, actor=actor, key=GUITAR.key)
            with pytest.raises(Forbidden):
                offerings.create(db, actor=actor, data=OfferingCreate(key="k", name="n"))


def test_price_bands_read_from_words_and_show_in_the_currency() -> None:
    assert parse_price_band("under $50") is PriceBand.UNDER_50
    assert parse_price_band("€50-200") is PriceBand.FROM_50_TO_200
    assert parse_price_band("£50\u2013200") is PriceBand.FROM_50_TO_200
    assert parse_price_band("$200+") is PriceBand.FROM_200
    assert parse_price_band("200_PLUS") is PriceBand.FROM_200
    assert parse_price_band("  ") is None
    with pytest.raises(ValueError, match="not a price band"):
        parse_price_band("cheap")
    assert price_band_label(PriceBand.UNDER_50, "USD") == "under $50"
    assert price_band_label("50_200", "EUR") == "€50\u2013200"
    assert price_band_label(PriceBand.FROM_200, "CHF") == "CHF\u00a0200+"


@pytest.mark.filterwarnings(DUCKDB_WARNING)
def test_purchases_of_an_offering_are_counted_from_the_events_dataset(runtime: Runtime) -> None:
    with runtime.session() as db:
        offerings.create(db, actor=SYSTEM, data=GUITAR)
        assert (
            offerings.detail(
                db, actor=SYSTEM, key=GUITAR.key, data_dir=runtime.settings.data_dir, analytics_url=""
            ).purchases
            == 0
        )
    events = [
        {"customer": "crm:1", "type": "purchase", "timestamp": "2024-05-01", "offering": GUITAR.key},
        {"customer": "crm:2", "type": "purchase", "timestamp": "2024-05-02", "offering": GUITAR.key},
        {"customer": "crm:2", "type": "visit", "timestamp": "2024-05-02", "offering": GUITAR.key},
        {"customer": "crm:3", "type": "purchase", "timestamp": "2024-05-03", "offering": "other"},
        {"customer": "crm:3", "type": "purchase", "timestamp": "2024-05-04"},
    ]
    with runtime.session() as db:
        ingest.stage_batch(db, actor=SYSTEM, events=events)
    ingest.flush_staged(runtime.sessions, dataset=ingest.dataset_of(runtime.settings.data_dir))
    with runtime.session() as db:
        shown = offerings.detail(
            db, actor=SYSTEM, key=GUITAR.key, data_dir=runtime.settings.data_dir, analytics_url=""
        )
    assert shown.purchases == 2
    counts = behaviour.purchases_by_offering(
        actor=SYSTEM, data_dir=runtime.settings.data_dir, analytics_url=""
    )
    assert counts == {GUITAR.key: 2, "other": 1}
    assert behaviour.purchases_by_offering(
        actor=SYSTEM, data_dir=runtime.settings.data_dir, analytics_url="", offerings=["none", "other"]
    ) == {"none": 0, "other": 1}
