"""A purchase model per group of customers against one for everyone: on the CDNOW sample (real data, groups
that cannot differ) and on two planted groups that buy very differently."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from ibis import BaseBackend
from ibis.expr.types import Table

from segone.accounts.schemas import SYSTEM, Actor, Role
from segone.analytics import backend
from segone.behaviour import evaluation, group_fits, metrics
from segone.behaviour.btyd import bgnbd
from segone.behaviour.dataset import EventDataset
from segone.behaviour.events import read_cdnow_sample
from segone.errors import Forbidden, Invalid
from tests.planted_purchases import HEAVY, LIGHT, planted_purchases

CALIBRATION_END, HOLDOUT_END = date(1997, 9, 30), date(1998, 6, 30)

pytestmark = pytest.mark.filterwarnings(r"ignore:fetch_arrow_table\(\) is deprecated:DeprecationWarning")


@pytest.fixture(scope="module")
def con(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BaseBackend]:
    connection = backend.connect("duckdb://:memory:", tmp_path_factory.mktemp("duckdb"))
    yield connection
    connection.disconnect()


def _events(con: BaseBackend, table: pa.Table, folder: Path) -> Table:
    """The events as the dataset gives them, each with the customer id its number stands for."""
    number = pc.cast(pc.utf8_slice_codeunits(table.column("customer"), 6), pa.int64())
    table = table.set_column(table.schema.get_field_index("customer_id"), "customer_id", number)
    dataset = EventDataset(folder)
    dataset.write_batch(table)
    return dataset.read(con)


@pytest.fixture(scope="module")
def cdnow(con: BaseBackend, tmp_path_factory: pytest.TempPathFactory) -> Table:
    return _events(con, read_cdnow_sample(), tmp_path_factory.mktemp("cdnow"))


def test_one_group_of_everyone_is_the_pooled_fit(cdnow: Table) -> None:
    everyone = {customer: 7 for customer in range(1, 30_000)}
    found = group_fits.fit_by_group(cdnow, everyone, CALIBRATION_END, HOLDOUT_END, actor=SYSTEM)
    assert found.customers == 2357 and found.left_out == 0 and found.fitted == 1
    (group,) = found.groups
    assert group.group == 7 and group.own and group.customers == 2357
    assert group.log_likelihood == pytest.approx(found.pooled.log_likelihood, rel=1e-9)
    assert group.parameters == pytest.approx(found.pooled.parameters, rel=1e-6)
    # The pooled fit is evaluation's BG/NBD fit on the same split: the same holdout error.
    alone = evaluation.evaluate(cdnow, CALIBRATION_END, HOLDOUT_END, model="bgnbd", actor=SYSTEM)
    assert found.pooled.mean_absolute_error == pytest.approx(alone.mean_absolute_error, rel=1e-6)
    assert found.pooled.actual == alone.actual_total
    assert found.bic == pytest.approx(found.pooled_bic)
    assert found.verdict.startswith("One model for everyone does as well")


def test_a_split_that_means_nothing_fits_better_in_sample_but_is_not_worth_its_parameters(
    cdnow: Table,
) -> None:
    halves = {customer: customer % 2 for customer in range(1, 30_000)}  # by the parity of their number
    found = group_fits.fit_by_group(cdnow, halves, CALIBRATION_END, HOLDOUT_END, actor=SYSTEM)
    assert [g.group for g in found.groups] == [0, 1] and found.fitted == 2
    assert sum(g.customers for g in found.groups) == found.customers == 2357
    # Each half's own maximum is at least as likely as the pooled parameters on that half.
    assert found.log_likelihood >= found.pooled.log_likelihood - 1e-6
    assert found.bic > found.pooled_bic  # four more parameters for a gain of chance
    weighted = sum(g.mean_absolute_error * g.customers for g in found.groups) / found.customers
    assert found.mean_absolute_error == pytest.approx(weighted)
    assert found.as_dict()["by_segment"]["bic"] == pytest.approx(found.bic)


def test_a_small_group_and_customers_in_no_group(cdnow: Table) -> None:
    ids = sorted(backend.to_arrow(cdnow.select("customer_id").distinct()).column(0).to_pylist())
    groups = {customer: (1 if n < 30 else 2) for n, customer in enumerate(ids[:1999])}  # the rest: none
    found = group_fits.fit_by_group(cdnow, groups, CALIBRATION_END, HOLDOUT_END, actor=SYSTEM)
    assert found.customers == 1999 and found.left_out == 2357 - 1999
    small, large = found.groups
    assert (small.customers, small.own, small.note) == (30, False, "30 customers: fewer than 100")
    assert small.parameters == found.pooled.parameters
    assert large.own and large.note is None


def test_bad_requests_are_refused(cdnow: Table) -> None:
    groups = {1: 1}
    with pytest.raises(Invalid, match="model must be one of"):
        group_fits.fit_by_group(cdnow, groups, CALIBRATION_END, HOLDOUT_END, model="gamma", actor=SYSTEM)
    with pytest.raises(Invalid, match="holdout end must be after"):
        group_fits.fit_by_group(cdnow, groups, HOLDOUT_END, CALIBRATION_END, actor=SYSTEM)
    with pytest.raises(Invalid, match="None of the customers"):
        group_fits.fit_by_group(cdnow, {}, CALIBRATION_END, HOLDOUT_END, actor=SYSTEM)
    with pytest.raises(Forbidden):
        group_fits.fit_by_group(
            cdnow,
            groups,
            CALIBRATION_END,
            HOLDOUT_END,
            actor=Actor(user_id=1, email="front@example.com", role=Role.FRONTLINE),
        )


def test_groups_that_buy_differently_are_better_fitted_each(con: BaseBackend, tmp_path: Path) -> None:
    light, heavy = range(1, 1501), range(10_001, 11_501)
    dataset = EventDataset(tmp_path / "planted")
    dataset.write_batch(planted_purchases([(light, LIGHT), (heavy, HEAVY)]))
    events = dataset.read(con)
    groups = {customer: 0 for customer in light} | {customer: 1 for customer in heavy}
    found = group_fits.fit_by_group(
        events, groups, date(2025, 6, 30), date(2025, 12, 31), model="bgnbd", actor=SYSTEM
    )
    assert found.fitted == 2 and found.customers == 3000
    assert found.mean_absolute_error < found.pooled.mean_absolute_error
    assert found.bic < found.pooled_bic
    assert found.verdict.startswith("A model per segment predicts the holdout better and is worth")
    light, heavy = found.groups

    # Each group's fit recovers the direction of its process: the heavy buyers buy faster, leave less.
    def rate(p: dict[str, float]) -> float:
        return p["r"] / p["alpha"]

    def dropout(p: dict[str, float]) -> float:
        return p["a"] / (p["a"] + p["b"])

    assert rate(heavy.parameters) > 5 * rate(light.parameters)
    assert dropout(heavy.parameters) < dropout(light.parameters)


def test_a_started_fit_that_wanders_off_is_searched_again(con: BaseBackend, tmp_path: Path) -> None:
    """Heavy buyers fitted from the pooled optimum: in some row orders Newton followed the BG/NBD's flat
    ridge (a and b a hundred times larger, their ratio held) to a lesser stationary point and called it
    converged; a started fit that moves that far is now searched from the 32 starts instead."""
    light, heavy = range(1, 1501), range(10_001, 11_501)
    dataset = EventDataset(tmp_path / "planted")
    dataset.write_batch(planted_purchases([(light, LIGHT), (heavy, HEAVY)]))
    summary = backend.to_arrow(
        metrics.rfm_summary(dataset.read(con), date(2025, 6, 30), "week", by="customer_id")
    ).sort_by("customer_id")
    x, t_x, T = (summary.column(n).to_numpy().astype(np.float64) for n in ("frequency", "recency", "T"))
    pooled = bgnbd.fit(x, t_x, T, standard_errors=False).params
    rows = summary.column("customer_id").to_numpy() > 10_000
    searched = bgnbd.fit(x[rows], t_x[rows], T[rows], standard_errors=False)
    rng = np.random.default_rng(0)
    for _ in range(20):  # the eleventh order of this generator met the ridge
        order = rng.permutation(int(rows.sum()))
        started = bgnbd.fit(
            x[rows][order], t_x[rows][order], T[rows][order], standard_errors=False, start=pooled
        )
        assert started.log_likelihood == pytest.approx(searched.log_likelihood, abs=1e-4)
