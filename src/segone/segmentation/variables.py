"""The variables a segmentation may split on: every per-customer column segone has, named stably, typed, and
read into one table with a row per customer (docs/segmentation.md, "Variables").

Names: ``attribute:<key>`` (customer attributes, their kind inferred from the values), ``behaviour:<column>``
and ``score:<name>`` (the last behaviour refresh), ``knows:<category>`` (a current fact in that category) and
``trait:<id>`` (a fact trait of the last knowledge refresh). Missing stays missing: a number or a category
nobody recorded is a null, which the tree makes a branch of its own ("unknown").
"""

from __future__ import annotations

import difflib
import json
import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa
from sqlalchemy.orm import Session

from segone.accounts.schemas import Actor, Permission
from segone.accounts.service import require
from segone.behaviour import service as behaviour
from segone.customers import service as customers
from segone.customers.schemas import ConsentPurpose
from segone.errors import Invalid
from segone.knowledge.categories.service import in_force
from segone.knowledge.distinguishability import service as distinguishability
from segone.knowledge.facts import service as facts
from segone.segmentation.models import Segment, SegmentationVersion, SegmentMembership
from segone.segmentation.schemas import Variable, VariableInfo, VariableKind
from segone.settings import Settings
from segone.storage.batching import among, batched, chunks, values_per_statement

Override = VariableKind | Literal["exclude"]

# A categorical attribute with more levels than this, and more than FREE_TEXT_SHARE of the customers who
# have a value, is free text (notes, ids, e-mail addresses): splitting on it isolates customers by a
# string, not by a difference. It is left out unless its kind is overridden.
FREE_TEXT_LEVELS = 100
FREE_TEXT_SHARE = 0.5
# Fact traits held by fewer customers than this separate nobody from a group; a trait held by everyone
# separates nobody either. The most held MAX_TRAITS are offered (ties by id).
MIN_TRAIT_HOLDERS = 2
MAX_TRAITS = 100
EXAMPLES = 3
READ_BATCH = 10_000

_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_BOOLEANS = {"true": True, "yes": True, "false": False, "no": False}
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_CURRENCY = "<currency>"  # replaced by SEGONE_CURRENCY

# Behaviour profile columns that describe behaviour (dates, the refresh they came from and the evidence
# counts behind each preference are bookkeeping; recency and tenure say what the dates say).
_BEHAVIOUR: tuple[tuple[str, str, VariableKind, str], ...] = (
    ("purchases", "purchases (days with a purchase)", VariableKind.NUMERIC, "purchases"),
    ("repeat_purchases", "repeat purchases", VariableKind.NUMERIC, "purchases"),
    ("recency_days", "recency (days since last purchase)", VariableKind.NUMERIC, "days"),
    ("tenure_days", "tenure (days since first purchase)", VariableKind.NUMERIC, "days"),
    ("total_value", "total spent", VariableKind.NUMERIC, _CURRENCY),
    ("mean_value", "spend per purchase day (mean)", VariableKind.NUMERIC, _CURRENCY),
    ("median_gap_days", "buys every … days (median gap)", VariableKind.NUMERIC, "days"),
    ("gap_cv", "regularity (gap variation: 0 clockwork, above 1 erratic)", VariableKind.NUMERIC, ""),
    ("purchases_last_90d", "purchases in the last 90 days", VariableKind.NUMERIC, "purchases"),
    ("purchases_prev_90d", "purchases in the 90 days before", VariableKind.NUMERIC, "purchases"),
    ("trend_ratio", "trend (last 90 days over the 90 before)", VariableKind.NUMERIC, ""),
    ("preferred_channel", "preferred channel", VariableKind.CATEGORICAL, ""),
    ("preferred_day_of_week", "preferred day of the week", VariableKind.CATEGORICAL, ""),
    ("preferred_hour", "preferred hour of the day (UTC)", VariableKind.NUMERIC, "hour"),
    ("contacts", "contacts", VariableKind.NUMERIC, "contacts"),
    ("top_contact_reason_1", "main contact reason", VariableKind.CATEGORICAL, ""),
    ("complaints", "complaints", VariableKind.NUMERIC, "complaints"),
    ("returns", "returns", VariableKind.NUMERIC, "returns"),
    ("referrals", "referrals", VariableKind.NUMERIC, "referrals"),
    ("reviews", "reviews", VariableKind.NUMERIC, "reviews"),
    ("visits", "visits", VariableKind.NUMERIC, "visits"),
    ("events", "events (all kinds)", VariableKind.NUMERIC, "events"),
)
_SCORES: tuple[tuple[str, str, str], ...] = (
    ("p_alive", "P(alive) (probability still buying)", ""),
    ("expected_purchases", "expected purchases (next horizon)", "purchases"),
    ("expected_value", "expected value of a purchase", _CURRENCY),
    ("clv", "CLV (value of the next horizon, discounted)", _CURRENCY),
)
_PREFIXES = ("attribute", "behaviour", "score", "knows", "trait", "segment")
# An earlier run's segments (segment:<version>): the customer's segment at this depth of that version's
# tree, for the latest few finished versions. Only when named: splitting a new tree on the old one by
# default would make every build repeat the first.
SEGMENT_DEPTH = 2
EARLIER_VERSIONS = 3
NAMED_ONLY = ("segment:",)


@dataclass
class _AttributeValues:
    """What one pass over every customer saw of one attribute key."""

    holders: int = 0
    counts: Counter[str] = field(default_factory=Counter)
    not_numbers: list[str] = field(default_factory=list)
    not_booleans: list[str] = field(default_factory=list)

    def add(self, value: Any) -> None:
        text = _text(value)
        if text is None:
            return
        self.holders += 1
        self.counts[text] += 1
        if _number(value) is None and len(self.not_numbers) < EXAMPLES and text not in self.not_numbers:
            self.not_numbers.append(text)
        if _boolean(value) is None and len(self.not_booleans) < EXAMPLES and text not in self.not_booleans:
            self.not_booleans.append(text)

    @property
    def inferred(self) -> VariableKind:
        if self.holders and not self.not_numbers:
            return VariableKind.NUMERIC
        if self.holders and not self.not_booleans:
            return VariableKind.BOOLEAN
        return VariableKind.CATEGORICAL

    def left_out(self) -> str | None:
        if not self.holders:
            return "no customer has a value"
        levels = len(self.counts)
        if (
            self.inferred is VariableKind.CATEGORICAL
            and levels > FREE_TEXT_LEVELS
            and levels > FREE_TEXT_SHARE * self.holders
        ):
            return (
                f"free text: {levels:,} different values among {self.holders:,} customers with a value "
                f"(more than {FREE_TEXT_LEVELS} and more than half); override its kind to use it"
            )
        return None


def _text(value: Any) -> str | None:
    """The value as a level's text; None when missing (null, empty or blank text, NaN)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return None
        return str(int(value)) if value.is_integer() and abs(value) < 2**53 else repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return value.strip() or None
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def _number(value: Any) -> float | None:
    """The value as a number (a JSON number, or text that reads as one: "42", "-3.5", "1e3"), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
        return number if math.isfinite(number) else None
    if isinstance(value, str) and _NUMBER.match(value.strip()):
        number = float(value.strip())
        return number if math.isfinite(number) else None
    return None


def _boolean(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        return _BOOLEANS.get(value.strip().casefold())
    return None


def _label(text: str) -> str:
    """Lower-case the first letter of a heading or a fact for "knows: …" and "trait: …" ("Growth plans"
    reads "growth plans"), unless it starts an acronym ("IBM", "iOS" stay)."""
    if len(text) > 1 and text[0].isupper() and not text[1].isupper():
        return text[0].lower() + text[1:]
    return text


def _attribute_values(db: Session) -> tuple[dict[str, _AttributeValues], int]:
    """Every attribute key's values over all customers not merged into another, and how many those are."""
    seen: dict[str, _AttributeValues] = {}
    active = 0
    for page in customers.attribute_pages(db, batch_size=READ_BATCH):
        active += len(page)
        for _customer_id, attributes in page:
            for key, value in attributes.items():
                values = seen.get(key)
                if values is None:
                    values = seen[key] = _AttributeValues()
                values.add(value)
    return seen, active


def _check_override(name: str, wanted: Override, values: _AttributeValues | None, kind: VariableKind) -> None:
    if wanted == "exclude":
        return
    if values is None:
        if wanted != kind:
            raise Invalid(
                f"Only an attribute's kind can be overridden: {name} is always {kind.value}; "
                f"leave it out with 'exclude'."
            )
        return
    bad = {VariableKind.NUMERIC: values.not_numbers, VariableKind.BOOLEAN: values.not_booleans}.get(
        VariableKind(wanted), []
    )
    if bad:
        shown = ", ".join(f"'{value}'" for value in bad)
        raise Invalid(f"{name} cannot be {VariableKind(wanted).value}: it has values such as {shown}.")


def describe_variables(
    db: Session, *, actor: Actor, settings: Settings, overrides: Mapping[str, Override] | None = None
) -> list[VariableInfo]:
    """Every variable, those left out included (with the reason), in catalogue order; ``overrides`` set an
    attribute's kind or leave any variable out (``"exclude"``)."""
    require(actor, Permission.VIEW_TEAM_DASHBOARDS)
    overrides = dict(overrides or {})
    currency = settings.currency
    attributes, active = _attribute_values(db)
    infos: list[tuple[VariableInfo, _AttributeValues | None]] = []

    for key in sorted(attributes):
        values = attributes[key]
        infos.append(
            (
                VariableInfo(
                    name=f"attribute:{key}",
                    label=key.replace("_", " "),
                    source="customers",
                    unit="",
                    kind=values.inferred,
                    inferred_kind=values.inferred,
                    distinct=len(values.counts),
                    missing_share=_share(active - values.holders, active),
                    examples=tuple(
                        text for text, _ in sorted(values.counts.items(), key=_by_count)[:EXAMPLES]
                    ),
                    excluded=values.left_out(),
                ),
                values,
            )
        )

    if behaviour.has_profiles(db):
        infos.extend((info, None) for info in _behaviour_infos(db, active=active, currency=currency))

    known = Counter(category for _customer, category in facts.known_categories(db, batch_size=READ_BATCH))
    for category in in_force(settings).all:
        holders = known.get(category.name, 0)
        infos.append(
            (_flag(f"knows:{category.name}", f"knows: {_label(category.label)}", holders, active), None)
        )

    traits = [
        trait
        for trait in distinguishability.fact_traits(db, min_holders=MIN_TRAIT_HOLDERS)
        if trait.holders < active
    ][:MAX_TRAITS]
    for trait in traits:
        infos.append(
            (_flag(f"trait:{trait.id}", f"trait: {_label(trait.label)}", trait.holders, active), None)
        )

    infos.extend((info, None) for info in _segment_infos(db, active=active))

    by_name = {info.name: (info, values) for info, values in infos}
    unknown = [name for name in overrides if name not in by_name]
    if unknown:
        raise Invalid(_unknown_message(unknown, by_name))
    described = []
    for info, held in infos:
        wanted = overrides.get(info.name)
        if wanted is None:
            described.append(info if info.excluded is None else _replace(info, kind=None))
            continue
        _check_override(info.name, wanted, held, info.inferred_kind)
        if wanted == "exclude":
            described.append(_replace(info, kind=None, excluded="left out by an override", overridden=True))
        else:
            described.append(_replace(info, kind=VariableKind(wanted), excluded=None, overridden=True))
    return described


def _replace(info: VariableInfo, **changes: Any) -> VariableInfo:
    return VariableInfo(**{**info.__dict__, **changes})


def _by_count(item: tuple[str, int]) -> tuple[int, str]:
    return -item[1], item[0]


def _share(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def _flag(name: str, label: str, holders: int, active: int) -> VariableInfo:
    """A knows:/trait: variable: yes or no for everyone (not known is "no", never missing)."""
    return VariableInfo(
        name=name,
        label=label,
        source="knowledge",
        unit="",
        kind=VariableKind.BOOLEAN,
        inferred_kind=VariableKind.BOOLEAN,
        distinct=int(holders > 0) + int(holders < active),
        missing_share=0.0,
        examples=tuple(text for text, count in (("true", holders), ("false", active - holders)) if count > 0),
        # Nobody (or everybody) holds it yet: it cannot tell any customer from another.
        excluded=None if 0 < holders < active else "the same for every customer",
    )


def _behaviour_infos(db: Session, *, active: int, currency: str) -> list[VariableInfo]:
    columns = [column for column, *_ in _BEHAVIOUR] + [column for column, *_ in _SCORES]
    counts: list[Counter[str]] = [Counter() for _ in columns]
    present = [0] * len(columns)
    for row in behaviour.profile_rows(db, columns=columns, batch_size=READ_BATCH):
        for index, value in enumerate(row[1:]):
            if value is not None and not (isinstance(value, float) and math.isnan(value)):
                present[index] += 1
                counts[index][_behaviour_text(columns[index], value)] += 1
    specs = [(f"behaviour:{c}", label, kind, unit) for c, label, kind, unit in _BEHAVIOUR] + [
        (f"score:{c}", label, VariableKind.NUMERIC, unit) for c, label, unit in _SCORES
    ]
    return [
        VariableInfo(
            name=name,
            label=label,
            source="behaviour",
            unit=currency if unit == _CURRENCY else unit,
            kind=kind,
            inferred_kind=kind,
            distinct=len(counts[index]),
            # Customers without a profile (no events) lack every behaviour variable.
            missing_share=_share(active - present[index], active),
            examples=tuple(text for text, _ in sorted(counts[index].items(), key=_by_count)[:EXAMPLES]),
        )
        for index, (name, label, kind, unit) in enumerate(specs)
    ]


def _behaviour_text(column: str, value: Any) -> str:
    if column == "preferred_day_of_week":
        return _DAYS[int(value) % 7]
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def catalogue(
    db: Session, *, actor: Actor, settings: Settings, overrides: Mapping[str, Override] | None = None
) -> list[Variable]:
    """Every variable available now and not left out (free text, no values, ``"exclude"``), in a stable
    order: attributes by key, behaviour, scores, knowledge categories in force, fact traits."""
    return [
        Variable(name=info.name, label=info.label, kind=info.kind, source=info.source, unit=info.unit)
        for info in describe_variables(db, actor=actor, settings=settings, overrides=overrides)
        if info.kind is not None
    ]


def select(
    catalogue: Sequence[Variable],
    variables: Sequence[str] | Literal["all"] = "all",
    exclude: Sequence[str] = (),
    *,
    left_out: Mapping[str, str] | None = None,
) -> list[Variable]:
    """The chosen variables in catalogue order: ``all`` (an earlier run's segments only when named) or
    names (``prefix:*`` takes every variable of a source: ``knows:*``), less ``exclude``. Unknown names
    are refused with the close names; ``left_out``
    (name → reason, from ``describe_variables``) explains a name that exists but is left out."""
    by_name = {variable.name: variable for variable in catalogue}
    if variables == "all":
        wanted_names = [name for name in by_name if not name.startswith(NAMED_ONLY)]
    else:
        wanted_names = _expand(variables, by_name, left_out)
    dropped = set(_expand(exclude, by_name, left_out))
    chosen = [by_name[name] for name in by_name if name in set(wanted_names) and name not in dropped]
    if not chosen:
        raise Invalid("No variable is left to segment on: choose at least one that is not excluded.")
    return chosen


def _expand(
    names: Iterable[str], by_name: Mapping[str, Variable], left_out: Mapping[str, str] | None
) -> list[str]:
    found: list[str] = []
    unknown: list[str] = []
    for raw in names:
        name = raw.strip()
        if not name:
            continue
        if name.endswith(":*") and name[:-2] in _PREFIXES:
            found.extend(n for n in by_name if n.startswith(name[:-1]))
        elif name in by_name:
            found.append(name)
        else:
            unknown.append(name)
    if unknown:
        reasons = [
            f"{name} is left out: {left_out[name]}" for name in unknown if left_out and name in left_out
        ]
        if reasons:
            raise Invalid("; ".join(reasons) + ".")
        raise Invalid(_unknown_message(unknown, by_name))
    return found


def _unknown_message(unknown: Sequence[str], known: Iterable[str]) -> str:
    names = list(known)
    parts = []
    for name in unknown:
        close = difflib.get_close_matches(name, names, n=3, cutoff=0.6)
        if not close and ":" not in name:
            # "recency_days" for "behaviour:recency_days": the name without its source.
            close = [n for n in names if n.split(":", 1)[1] == name][:3]
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        parts.append(f"'{name}'{hint}")
    return (
        f"Not a variable: {', '.join(parts)}. Variables are named attribute:<key>, behaviour:<column>, "
        "score:<name>, knows:<category>, trait:<id> or segment:<version> (segone segments variables lists "
        "them)."
    )


def gather(
    db: Session,
    *,
    actor: Actor,
    variables: Sequence[Variable],
    ids: Sequence[int] | None = None,
    settings: Settings | None = None,
) -> pa.Table:
    """One row per customer not merged into another, by id: ``customer_id`` then a column per variable,
    numbers as float64, categories as strings, yes/no as bool; null where the customer has no value
    (knows:/trait: are never null: not known is False).

    With ``ids``, only those of these customers (an id that is unknown or merged into another has no row):
    what a customer's sheet shows, so it needs only the permission to read customers; everyone's values
    need the analytics permission.

    A value that no longer fits the variable's kind (an attribute changed since the catalogue was read) is
    refused, not dropped.

    Everyone's rows leave out the customers without profiling consent (``settings.consent_default`` where
    they have no record; refused without settings): builds and audiences never see them. A few customers'
    rows (``ids``) are what the caller asked about, and it decides.
    """
    require(actor, Permission.RUN_ANALYTICS if ids is None else Permission.READ_CUSTOMERS)
    only = None if ids is None else sorted({int(i) for i in ids})
    by_source: dict[str, list[Variable]] = {prefix: [] for prefix in _PREFIXES}
    for variable in variables:
        prefix = variable.name.split(":", 1)[0]
        if prefix not in by_source:
            raise Invalid(_unknown_message([variable.name], []))
        by_source[prefix].append(variable)

    columns: dict[str, pa.Array] = {}
    if by_source["attribute"] or only is not None:
        ids_read, attribute_columns = _attribute_columns(db, by_source["attribute"], only)
        columns.update(attribute_columns)
    else:
        ids_read = np.array(sorted(customers.current_ids(db)), dtype=np.int64)
    # Only the customers read, not everyone's rows, when ``ids`` names a few.
    among = None if only is None else ids_read.tolist()
    if by_source["behaviour"] or by_source["score"]:
        columns.update(_behaviour_columns(db, ids_read, by_source["behaviour"] + by_source["score"], among))
    if by_source["knows"]:
        columns.update(_knows_columns(db, ids_read, by_source["knows"], among))
    if by_source["trait"]:
        columns.update(_trait_columns(db, ids_read, by_source["trait"], among))
    if by_source["segment"]:
        columns.update(_segment_columns(db, ids_read, by_source["segment"]))
    table = pa.table(
        {"customer_id": pa.array(ids_read, type=pa.int64()), **{v.name: columns[v.name] for v in variables}}
    )
    if only is not None:
        return table
    unwilling = customers.without_consent(
        db,
        purposes=[ConsentPurpose.PROFILING],
        default_granted=settings is not None and settings.consent_granted_by_default,
    )
    if not unwilling:
        return table
    return table.filter(
        pc.invert(pc.is_in(table.column("customer_id"), pa.array(sorted(unwilling), pa.int64())))
    )


def values_of(
    db: Session,
    *,
    actor: Actor,
    variables: Sequence[Variable],
    customer_id: int,
    held: tuple[set[str], set[int]] | None = None,
) -> dict[str, Any] | None:
    """One customer's values of ``variables`` as ``gather`` reads them (its row, as Python values), None for
    an unknown customer or one merged into another: a customer's sheet reads them on every view, where
    ``gather``'s columns cost more than the few rows read. ``held``: the categories in which the customer
    has a current fact and the fact traits they hold (``current_categories_and_traits``), when read."""
    require(actor, Permission.READ_CUSTOMERS)
    by_source: dict[str, list[Variable]] = {prefix: [] for prefix in _PREFIXES}
    for variable in variables:
        prefix = variable.name.split(":", 1)[0]
        if prefix not in by_source:
            raise Invalid(_unknown_message([variable.name], []))
        by_source[prefix].append(variable)
    if by_source["segment"]:
        table = gather(db, actor=actor, variables=variables, ids=[customer_id])
        return {v.name: table.column(v.name)[0].as_py() for v in variables} if table.num_rows else None
    attributes = customers.attributes_of_one(db, customer_id)
    if attributes is None:
        return None
    values: dict[str, Any] = {
        v.name: _convert(v, attributes.get(v.name.removeprefix("attribute:"))) for v in by_source["attribute"]
    }
    measured = by_source["behaviour"] + by_source["score"]
    if measured:
        names = [variable.name.split(":", 1)[1] for variable in measured]
        row = next(iter(behaviour.profile_rows(db, columns=names, customer_ids=[customer_id])), None)
        for i, variable in enumerate(measured):
            value = None if row is None else row[i + 1]
            if variable.kind is VariableKind.NUMERIC:
                number = None if value is None else float(value)
                values[variable.name] = None if number is None or math.isnan(number) else number
            else:
                values[variable.name] = None if value is None else _behaviour_text(names[i], value)
    if by_source["knows"] or by_source["trait"]:
        known, traits = held or distinguishability.current_categories_and_traits(db, customer_id)
        for variable in by_source["knows"]:
            values[variable.name] = variable.name.removeprefix("knows:") in known
        for variable in by_source["trait"]:
            raw = variable.name.removeprefix("trait:")
            if not raw.isdigit():
                raise Invalid(_unknown_message([variable.name], []))
            values[variable.name] = int(raw) in traits
    return {v.name: values[v.name] for v in variables}


def _attribute_columns(
    db: Session, wanted: Sequence[Variable], only: Sequence[int] | None
) -> tuple[np.ndarray[Any, Any], dict[str, pa.Array]]:
    ids: list[int] = []
    keys = [(variable.name.removeprefix("attribute:"), variable) for variable in wanted]
    values: dict[str, list[Any]] = {variable.name: [] for variable in wanted}
    pages = (
        customers.attribute_pages(db, batch_size=READ_BATCH)
        if only is None
        else [customers.attributes_of(db, only)]
    )
    for page in pages:
        for customer_id, attributes in page:
            ids.append(customer_id)
            for key, variable in keys:
                values[variable.name].append(_convert(variable, attributes.get(key)))
    columns = {}
    for variable in wanted:
        column = values[variable.name]
        if variable.kind is VariableKind.NUMERIC:
            columns[variable.name] = pa.array(column, type=pa.float64())
        elif variable.kind is VariableKind.BOOLEAN:
            columns[variable.name] = pa.array(column, type=pa.bool_())
        else:
            columns[variable.name] = pa.array(column, type=pa.string())
    return np.array(ids, dtype=np.int64), columns


def _convert(variable: Variable, value: Any) -> Any:
    text = _text(value)
    if text is None:
        return None
    if variable.kind is VariableKind.CATEGORICAL:
        return text
    converted = _number(value) if variable.kind is VariableKind.NUMERIC else _boolean(value)
    if converted is None:
        raise Invalid(
            f"{variable.name} has the value '{text}', which is not {variable.kind.value}: the attribute "
            "changed since its kind was read; read the variables again."
        )
    return converted


def _positions(
    ids: np.ndarray[Any, Any], customer_ids: Sequence[int]
) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """Where each of ``customer_ids`` sits in the sorted ``ids``, and which of them are there at all (a
    merged customer's leftover row is not)."""
    wanted = np.asarray(customer_ids, dtype=np.int64)
    at = np.searchsorted(ids, wanted)
    inside = at < len(ids)
    inside[inside] = ids[at[inside]] == wanted[inside]
    return at, inside


def _behaviour_columns(
    db: Session, ids: np.ndarray[Any, Any], wanted: Sequence[Variable], among: Sequence[int] | None
) -> dict[str, pa.Array]:
    names = [variable.name.split(":", 1)[1] for variable in wanted]
    numeric = [variable.kind is VariableKind.NUMERIC for variable in wanted]
    numbers = {i: np.full(len(ids), np.nan) for i, is_number in enumerate(numeric) if is_number}
    texts: dict[int, list[str | None]] = {
        i: [None] * len(ids) for i, is_number in enumerate(numeric) if not is_number
    }
    rows = behaviour.profile_rows(db, columns=names, batch_size=READ_BATCH, customer_ids=among)
    for batch in batched(rows, READ_BATCH):
        at, inside = _positions(ids, [row[0] for row in batch])
        rows_inside = [row for row, keep in zip(batch, inside.tolist(), strict=True) if keep]
        at = at[inside]
        for i in numbers:
            numbers[i][at] = np.array([row[i + 1] for row in rows_inside], dtype=np.float64)
        for i, column in texts.items():
            for position, row in zip(at.tolist(), rows_inside, strict=True):
                value = row[i + 1]
                column[position] = None if value is None else _behaviour_text(names[i], value)
    columns = {}
    for i, variable in enumerate(wanted):
        if i in numbers:
            floats = numbers[i]
            columns[variable.name] = pa.array(floats, type=pa.float64(), mask=np.isnan(floats))
        else:
            columns[variable.name] = pa.array(texts[i], type=pa.string())
    return columns


def _knows_columns(
    db: Session, ids: np.ndarray[Any, Any], wanted: Sequence[Variable], among: Sequence[int] | None
) -> dict[str, pa.Array]:
    flags = {variable.name.removeprefix("knows:"): np.zeros(len(ids), dtype=bool) for variable in wanted}
    known = facts.known_categories(db, batch_size=READ_BATCH, customer_ids=among)
    for batch in batched(known, READ_BATCH):
        holders: dict[str, list[int]] = {}
        for customer_id, category in batch:
            if category in flags:
                holders.setdefault(category, []).append(customer_id)
        for category, customer_ids in holders.items():
            at, inside = _positions(ids, customer_ids)
            flags[category][at[inside]] = True
    return {f"knows:{category}": pa.array(flag, type=pa.bool_()) for category, flag in flags.items()}


def _trait_columns(
    db: Session, ids: np.ndarray[Any, Any], wanted: Sequence[Variable], among: Sequence[int] | None
) -> dict[str, pa.Array]:
    trait_ids = {}
    for variable in wanted:
        raw = variable.name.removeprefix("trait:")
        if not raw.isdigit():
            raise Invalid(_unknown_message([variable.name], []))
        trait_ids[variable.name] = int(raw)
    held = distinguishability.trait_holders(db, trait_ids.values(), among)
    columns = {}
    for name, trait_id in trait_ids.items():
        flag = np.zeros(len(ids), dtype=bool)
        holders = sorted(held.get(trait_id, ()))
        if holders:
            at, inside = _positions(ids, holders)
            flag[at[inside]] = True
        columns[name] = pa.array(flag, type=pa.bool_())
    return columns


def _segment_infos(db: Session, *, active: int) -> list[VariableInfo]:
    """segment:<version> for the latest finished versions: categorical, the segments at ``SEGMENT_DEPTH``."""
    found = []
    for version_id, name in db.execute(
        sa.select(SegmentationVersion.id, SegmentationVersion.name)
        .where(SegmentationVersion.status == "done")
        .order_by(SegmentationVersion.id.desc())
        .limit(EARLIER_VERSIONS)
    ):
        words = _segment_words(db, version_id)
        sizes = Counter(
            words[node]
            for node in db.scalars(
                sa.select(SegmentMembership.node_id).where(SegmentMembership.version_id == version_id)
            )
        )
        members = sum(sizes.values())
        found.append(
            VariableInfo(
                name=f"segment:{version_id}",
                label=f"segment in {name or f'version {version_id}'}",
                source="segmentation",
                unit="",
                kind=VariableKind.CATEGORICAL,
                inferred_kind=VariableKind.CATEGORICAL,
                distinct=len(sizes),
                missing_share=_share(max(active - members, 0), active),
                examples=tuple(text for text, _ in sorted(sizes.items(), key=_by_count)[:EXAMPLES]),
                excluded=None if len(sizes) > 1 else "the same for every customer",
            )
        )
    return found


def _segment_words(db: Session, version_id: int) -> dict[int, str]:
    """Each node of the version mapped to the words of its ancestor at ``SEGMENT_DEPTH`` (itself when it is
    shallower): the level a customer in that node has."""
    rows = db.execute(
        sa.select(Segment.node_id, Segment.parent_node_id, Segment.depth, Segment.conditions).where(
            Segment.version_id == version_id, Segment.depth <= SEGMENT_DEPTH
        )
    ).all()
    words = {node: " AND ".join(conditions) or "all customers" for node, _parent, _depth, conditions in rows}
    at_depth = {node for node, _parent, depth, _conditions in rows if depth == SEGMENT_DEPTH}
    found = dict(words)
    # Deeper nodes take their ancestor's words: node ids are breadth-first, so parents come first.
    frontier = sorted(at_depth)
    size = values_per_statement(db)
    while frontier:
        below: list[int] = []
        for chunk in chunks(frontier, size):
            for node, parent in db.execute(
                sa.select(Segment.node_id, Segment.parent_node_id).where(
                    Segment.version_id == version_id, among(db, Segment.parent_node_id, chunk)
                )
            ):
                if parent is not None:
                    found[node] = found[parent]
                    below.append(node)
        frontier = sorted(below)
    return found


def _segment_columns(
    db: Session, ids: np.ndarray[Any, Any], wanted: Sequence[Variable]
) -> dict[str, pa.Array]:
    columns = {}
    for variable in wanted:
        raw = variable.name.removeprefix("segment:")
        if not raw.isdigit():
            raise Invalid(_unknown_message([variable.name], []))
        version_id = int(raw)
        words = _segment_words(db, version_id)
        values: list[str | None] = [None] * len(ids)
        position = {int(customer): i for i, customer in enumerate(ids.tolist())}
        query = sa.select(SegmentMembership.customer_id, SegmentMembership.node_id).where(
            SegmentMembership.version_id == version_id
        )
        # A few customers (a sheet, an assignment) read their own rows, not the version's.
        few = len(ids) <= values_per_statement(db)
        for customer, node in db.execute(
            query.where(among(db, SegmentMembership.customer_id, ids.tolist())) if few else query
        ):
            at = position.get(customer)
            if at is not None:
                values[at] = words.get(node)
        columns[variable.name] = pa.array(values, type=pa.string())
    return columns
