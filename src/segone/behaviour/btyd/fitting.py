"""What every BTYD fit shares: validated inputs, aggregation of identical rows, multi-start optimisation.

Inputs follow the conventions of the ``lifetimes`` package: ``x`` repeat purchases (frequency), ``t_x`` the
time from the first purchase to the last repeat purchase (recency, 0 when ``x = 0``), ``T`` the time since
the first purchase (age), all in one time unit.

Optimisation (``maximise``) works on log-parameters, so every parameter stays positive, with L-BFGS-B and
analytic gradients. Fits that depend on where they start are reported for these models (lifetimes'
Nelder-Mead Pareto/NBD stopping at different parameters, ColtAllen/btyd#86; (M)BG/NBD fits stuck with
``a, b`` near 0, CamDavidsonPilon/lifetimes#55), and the Pareto/NBD likelihood has a near-flat ridge along
``s, beta`` (on CDNOW the standard error of beta is 6.2 for an estimate of 11.7). So it starts from a
deterministic Sobol design of 32 points around a scale-free centre and runs L-BFGS-B from the best three,
then damped Newton steps (Hessian by differencing the analytic gradient), which converge in a few steps
where L-BFGS-B crawls.

Above 10,000 distinct rows the search happens on samples: the starts are ranked on 300 seeded customers
(in one call where the model can evaluate many points at once), searched from on 500 by BFGS that starts
from a differenced Hessian, and the best optimum (and the runner-up if it is another one) is refined on
5,000, then on all rows, by quasi-Newton steps that start from the Hessian the previous stage ended with and
update it from the larger sample's gradients: about one gradient over all rows a step. Continuous recency
and age make nearly every customer a distinct row, so the cost of a fit is the number of gradients over all
rows (5 to 8 for these models, and 4 more for the standard errors) times the cost of one, plus the fixed
cost of the samples' stages (about 10 ms for the BG/NBD, 130 ms for the Pareto/NBD).

The search box is ``|log-parameter| <= LOG_BOUND``. Where the data do not identify a parameter (everyone's
death rate the same: the gamma's shape grows without bound), the optimum lies on its edge; every optimiser
here then holds that parameter there and converges in the others (``_free``), and a step that would leave
the box is tried first as far as the edge along its own direction (``_line_search``). The fit says it
reached the edge; it costs about as many evaluations as one inside the box.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import astuple, dataclass, field, fields, replace
from typing import Any, Generic, TypeVar, cast

import numpy as np
import numpy.typing as npt
import pandas as pd  # type: ignore[import-untyped]
from numpy.typing import ArrayLike
from scipy.optimize import minimize  # type: ignore[import-untyped]
from scipy.stats import qmc  # type: ignore[import-untyped]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]
ParamsT = TypeVar("ParamsT")

# theta (log-parameters) and whether the gradient is needed -> (log-likelihood sum, gradient w.r.t. theta)
Objective = Callable[[FloatArray, bool], tuple[float, FloatArray]]
# many theta, one a row -> the log-likelihood sum at each
Totals = Callable[[FloatArray], FloatArray]

LOG_BOUND = 11.0  # |log-parameter| after rescaling time (and money) to unit means
SCREEN_ABOVE_ROWS = 10_000  # screen starting points on a subsample when there are more distinct rows
SCREEN_CUSTOMERS = 5_000
SCORE_CUSTOMERS = 500
RANK_CUSTOMERS = 300
SEARCH_GTOL = 1e-3  # mean gradient per customer at which the search on a sample stops
STAGE_GTOL = 1e-6  # ... and a refinement on a larger sample
STAGE_STEPS = 8
NEWTON_GTOL = 1e-10  # mean gradient per customer, log-parameters
NEWTON_STEP = 1e-6
# ... with a parameter held on the search box's edge (``_free``): out there (a shape of e^11) the likelihood
# is rounded at about 1e-9 of its value, which steps resolve down to gradients of about 1e-5, no further;
# and a fit that reached the edge is reported approximate anyway
EDGE_GTOL = 1e-5


class ModelParams:
    """What every model's frozen parameter dataclass shares: its values in order, as a tuple or an array."""

    def values(self) -> tuple[float, ...]:
        return tuple(float(v) for v in astuple(self))  # type: ignore[call-overload]

    def as_array(self) -> FloatArray:
        return np.array(astuple(self), dtype=np.float64)  # type: ignore[call-overload]


@dataclass(frozen=True)
class FitResult(Generic[ParamsT]):
    """A maximum-likelihood fit.

    ``log_likelihood`` is the total over customers in the caller's units, comparable with other packages;
    ``converged`` is false when the optimiser stopped without meeting its tolerances or a parameter ran to
    the edge of the search box (which means the data do not identify it).
    """

    params: ParamsT
    log_likelihood: float
    n_customers: int
    seconds: float
    converged: bool
    n_starts: int
    message: str
    covariance: FloatArray | None = field(default=None, compare=False)
    """Asymptotic covariance of the parameters (in their order): the inverse observed information, ``None``
    when the Hessian at the optimum is not positive definite (a parameter the data do not identify)."""

    @property
    def standard_errors(self) -> dict[str, float] | None:
        """Each parameter's standard error, the square root of the covariance's diagonal."""
        if self.covariance is None:
            return None
        names = [f.name for f in fields(self.params)]  # type: ignore[arg-type]
        return {name: float(np.sqrt(v)) for name, v in zip(names, np.diag(self.covariance), strict=True)}

    @property
    def log_covariance(self) -> FloatArray | None:
        """Covariance of the log-parameters (delta method): what parametric bootstraps draw from."""
        if self.covariance is None:
            return None
        values = np.array(astuple(self.params), dtype=np.float64)  # type: ignore[call-overload]
        return np.asarray(self.covariance / np.outer(values, values), dtype=np.float64)


@dataclass(frozen=True)
class Customers:
    """Per-customer summaries, or distinct ones with ``weights`` counting the customers sharing each."""

    x: FloatArray
    t_x: FloatArray
    T: FloatArray
    weights: FloatArray

    @property
    def n_customers(self) -> int:
        return round(float(self.weights.sum()))


def float_array(values: ArrayLike, name: str) -> FloatArray:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim == 0:
        array = array.reshape(1)
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} has missing or infinite values")
    return array


def check_weights(weights: ArrayLike | None, size: int) -> FloatArray:
    if weights is None:
        return np.ones(size)
    w = float_array(weights, "weights")
    if w.shape[0] != size:
        raise ValueError("weights must have one value per customer")
    if np.any(w <= 0):
        raise ValueError("weights must be positive")
    return w


def customers(x: ArrayLike, t_x: ArrayLike, T: ArrayLike, weights: ArrayLike | None = None) -> Customers:
    """Validate frequency / recency / age arrays (the ``lifetimes`` conventions)."""
    xa, ta, Ta = float_array(x, "x"), float_array(t_x, "t_x"), float_array(T, "T")
    if not xa.shape == ta.shape == Ta.shape:
        raise ValueError("x, t_x and T must have the same length")
    if np.any(xa < 0) or np.any(xa != np.round(xa)):
        raise ValueError("x (repeat purchases) must be whole numbers >= 0")
    if np.any(ta < 0) or np.any(ta > Ta):
        raise ValueError("t_x (recency) must lie between 0 and T (age)")
    if np.any(Ta <= 0):
        raise ValueError("T (age) must be positive")
    if np.any((xa == 0) & (ta != 0)):
        raise ValueError("t_x must be 0 for customers without repeat purchases")
    return Customers(xa, ta, Ta, check_weights(weights, xa.shape[0]))


def group_rows(
    columns: list[FloatArray], weights: FloatArray
) -> tuple[list[FloatArray], FloatArray, IntArray]:
    """Distinct rows of ``columns``, the summed weight of each and, per input row, the index of its group.

    Hash-based (``pandas.factorize``): about 0.08 s for a million rows of three columns.
    """
    key = np.zeros(weights.shape[0], dtype=np.int64)
    span = 1
    for column in columns:
        codes, count = _factorize(column)
        if span * count >= 2**62:  # the combined key would overflow: renumber the groups so far first
            renumbered, span = _factorize(key)
            key = renumbered.astype(np.int64)
        key = key * count + codes
        span *= count
    group, n_groups = _factorize(key)
    values = []
    for column in columns:
        distinct = np.empty(n_groups)
        distinct[group] = column  # every row of a group holds the same value
        values.append(distinct)
    totals = np.asarray(np.bincount(group, weights=weights, minlength=n_groups), dtype=np.float64)
    return values, totals, group


def distinct_share(values: FloatArray, sample: int = 10_000) -> float:
    """Share of distinct values among (a seeded sample of at most ``sample`` of) ``values``."""
    if values.shape[0] > sample:
        values = values[np.random.default_rng(0).choice(values.shape[0], sample, replace=False)]
    return float(_factorize(values)[1] / max(values.shape[0], 1))


def _factorize(values: npt.NDArray[np.float64] | npt.NDArray[np.int64]) -> tuple[IntArray, int]:
    codes, uniques = pd.factorize(values)
    return np.asarray(codes, dtype=np.intp), len(uniques)


AGGREGATE_BELOW_SHARE = 0.8  # distinct rows per row in a sample above which aggregation does not pay


def aggregate(data: Customers) -> Customers:
    """One row per distinct ``(x, t_x, T)``, weighted by the number of customers sharing it.

    Recency and age recorded to the second are nearly all distinct: then hashing every row gains a few rows
    for more time than they save (0.06 s of a 0.26 s BG/NBD fit on 200,000 customers), so when a seeded
    sample of 10,000 rows is more than 80% distinct the rows are kept as they are. The sample's ages are
    hashed first (when they are that distinct, so are its rows), and its rows only above 30,000 rows: below,
    hashing all of them costs little more than checking the sample (1.6 against 0.7 ms at 30,000).
    """
    columns = [data.x, data.t_x, data.T]
    n = data.x.shape[0]
    if n > 10_000 and distinct_share(data.T) > AGGREGATE_BELOW_SHARE:
        return data
    if n > 30_000:
        sample = np.random.default_rng(0).choice(n, 10_000, replace=False)
        _, sample_weights, _ = group_rows([column[sample] for column in columns], data.weights[sample])
        if sample_weights.shape[0] > AGGREGATE_BELOW_SHARE * 10_000:
            return data
    (x, t_x, T), weights, _ = group_rows(columns, data.weights)
    return Customers(x, t_x, T, weights)


def group_counts(x: FloatArray, weights: FloatArray) -> tuple[FloatArray, FloatArray, IntArray]:
    """``group_rows([x], weights)`` for whole numbers ``x >= 0`` (purchase counts): by counting, not
    hashing, when they are small (a few ms less on 200,000 rows); the groups are in increasing ``x``."""
    top = int(x.max()) if x.shape[0] else 0
    if top > 4 * x.shape[0] + 1000:
        (values,), totals, group = group_rows([x], weights)
        return values, totals, group
    codes = x.astype(np.intp)
    present = np.bincount(codes, minlength=top + 1) > 0
    ranks = np.cumsum(present) - 1
    counted = np.bincount(codes, weights=weights, minlength=top + 1)[present]
    return np.flatnonzero(present).astype(np.float64), np.asarray(counted, dtype=np.float64), ranks[codes]


def subsample_customers(weights: FloatArray, n: int, seed: int = 0) -> tuple[IntArray, FloatArray]:
    """A seeded sample of ``n`` customers (with replacement) from weighted rows: row indices and counts."""
    rng = np.random.default_rng(seed)
    if bool(np.all(weights == 1.0)):  # rows not aggregated: uniform draws, without a cumulative table
        draws = rng.integers(0, weights.shape[0], n)
    else:  # rng.choice(p=...)'s draws, but searched for in increasing order: 2.5 times faster, same counts
        cdf = np.cumsum(weights / weights.sum())
        cdf /= cdf[-1]
        draws = cdf.searchsorted(np.sort(rng.random(n)), side="right")
    counts = np.bincount(draws, minlength=weights.shape[0])
    rows = np.flatnonzero(counts)
    return rows, counts[rows].astype(np.float64)


# --- optimisation --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Optimum:
    theta: FloatArray
    log_likelihood: float  # total
    converged: bool
    n_starts: int
    message: str
    scale: float = 1.0  # the unit the data were divided by before fitting
    log_covariance: FloatArray | None = None  # of theta, see ``log_covariance``
    gradient: FloatArray | None = None  # of the total log-likelihood at theta

    def result(self, params: ParamsT, *, n_customers: int, started: float) -> FitResult[ParamsT]:
        """The fit as reported: these parameters, this optimum's likelihood and how it ended."""
        return FitResult(
            params=params,
            log_likelihood=float(self.log_likelihood),
            n_customers=n_customers,
            seconds=time.perf_counter() - started,
            converged=self.converged,
            n_starts=self.n_starts,
            message=self.message,
            covariance=natural_covariance(self.log_covariance, np.array(astuple(params), dtype=np.float64)),  # type: ignore[call-overload]
        )


def start_points(centre: FloatArray, spread: float = 2.5) -> FloatArray:
    """The centre plus 31 points of an unscrambled Sobol design in ``centre +- spread`` (deterministic)."""
    design = qmc.Sobol(d=centre.shape[0], scramble=False).random_base2(m=5)
    points = centre + spread * (2.0 * np.asarray(design, dtype=np.float64) - 1.0)
    points[0] = centre  # the first Sobol point is a corner of the box
    return np.clip(points, -LOG_BOUND + 0.5, LOG_BOUND - 0.5)


WARM_REACH = 3.0  # how far (log-parameters: a factor of 20) a started fit may move before it is distrusted


Sample = tuple[Objective, float]  # the objective on a subsample of the customers, and its total weight


def one_at_a_time(objective: Objective) -> Totals:
    """``Totals`` by evaluating ``objective`` at each point in turn."""
    return lambda thetas: np.array([objective(theta, False)[0] for theta in thetas])


def maximise(
    objective: Objective,
    *,
    centre: FloatArray,
    total_weight: float,
    samples: tuple[Sample, ...] = (),
    ranking: tuple[Totals, float] | None = None,
    runs: int = 3,
    start: FloatArray | None = None,
) -> Optimum:
    """Maximise ``objective`` over log-parameters from many deterministic starting points.

    With ``start`` (log-parameters near the optimum: a related fit's, such as everyone's for one segment)
    the search is skipped: the point is finished as below, and only if that does not converge within
    ``WARM_REACH`` of the start are the starts tried.

    The 32 starts are scored (by ``ranking``, on a small sample, if given) and L-BFGS-B runs from the best
    ``runs`` of them. With ``samples`` (the same objective on subsamples, smallest first) the search is
    BFGS on the first, and only its best optimum -- and the runner-up when that is a different one -- is
    carried to each larger sample in turn (``_refine``), then to all rows. Without, the best point is
    finished with Newton steps (``_newton``), falling back to L-BFGS-B if they do not converge.
    """
    objective = _remember_last(objective)
    if start is not None:
        warm = _concluded(objective, _finish(objective, start, total_weight), total_weight, n_starts=1)
        # Far from where it started, Newton has followed a flat ridge (a BG/NBD's a and b both huge, their
        # ratio held) to a stationary point that need not be the maximum: the search decides then.
        if warm.converged and float(np.max(np.abs(warm.theta - start))) <= WARM_REACH:
            return warm
    first, first_weight = samples[0] if samples else (objective, total_weight)
    starts = start_points(centre)
    rank, rank_weight = ranking if ranking is not None else (one_at_a_time(first), first_weight)
    with np.errstate(all="ignore"):
        totals = rank(starts)
    scores = np.where(np.isfinite(totals), -totals / rank_weight, 1e10)  # as _safe scores them
    best_starts = starts[np.argsort(scores)[:runs]]
    if not samples:
        ended = sorted((_lbfgsb(objective, theta, total_weight) for theta in best_starts), key=_value)
        found = _finish(objective, ended[0][0], total_weight)
        return _concluded(objective, found, total_weight, n_starts=len(starts))
    # On a sample the optimum only seeds the refinement on all rows: sampling error (about 1/sqrt(n) in
    # theta) dwarfs what a tight tolerance would add there.
    # On a sample the search is BFGS in numpy: SciPy's L-BFGS-B costs about 0.5 ms an iteration in its own
    # bookkeeping, several times a BG/NBD likelihood on a few hundred customers, and takes as many steps.
    # The best-ranked start's search begins from the Hessian by differences; the others from the one it
    # ended with, which saves them the d gradients and took them to their optimum in 4 to 6 steps.
    searched = [_bfgs(first, best_starts[0], first_weight, SEARCH_GTOL)]
    for theta in best_starts[1:]:
        searched.append(_bfgs(first, theta, first_weight, SEARCH_GTOL, hessian=searched[0][4]))
    points = sorted(searched, key=_value)
    for larger in samples[1:]:  # each sample's optimum to the next larger one, with the Hessian it ended with
        points = sorted(
            (
                _refine(*larger, point[0], point[4], max_steps=STAGE_STEPS, gtol=STAGE_GTOL)
                for point in _distinct(points)
            ),
            key=_value,
        )
    best = min(
        (_refine(objective, total_weight, point[0], point[4]) for point in _distinct(points)), key=_value
    )
    return _concluded(objective, best[:4], total_weight, n_starts=len(starts))


Found = tuple[FloatArray, float, bool, str]  # an optimiser's point, its value, whether it converged, why
Stepped = tuple[FloatArray, float, bool, str, FloatArray]  # ... and the Hessian its quasi-Newton steps built


def _value(found: Found | Stepped) -> float:
    return found[1]


def _concluded(
    objective: Objective, found: tuple[FloatArray, float, bool, str], total_weight: float, *, n_starts: int
) -> Optimum:
    """The optimum found, judged: converged when the optimiser said so (or the gradient is flat) inside
    the search box."""
    theta, value, success, message = found
    _, grad = _safe(objective, theta, True, total_weight)
    at_edge = bool(np.any(np.abs(theta) > LOG_BOUND - 1e-3))
    small_gradient = _largest(grad) < 1e-5
    converged = bool((success or small_gradient) and not at_edge and np.isfinite(value))
    if at_edge:
        message = "a parameter reached the edge of the search box; the data do not identify it"
    elif converged:
        message = "converged"
    return Optimum(theta, -value * total_weight, converged, n_starts, message, gradient=-grad * total_weight)


def _finish(objective: Objective, theta: FloatArray, weight: float) -> tuple[FloatArray, float, bool, str]:
    """Newton from a point near the optimum; L-BFGS-B (then Newton again) if that does not converge."""
    result = _newton(objective, theta, weight)
    if not result[2]:
        result = _newton(objective, _lbfgsb(objective, result[0], weight)[0], weight)
    return result


def _remember_last(objective: Objective) -> Objective:
    """``objective`` that answers again without computing for the point it was last asked about: the
    optimum's gradient, which the finish has just computed, costs nothing more."""
    last: dict[tuple[bytes, bool], tuple[float, FloatArray]] = {}

    def evaluate(theta: FloatArray, grad: bool) -> tuple[float, FloatArray]:
        key = (theta.tobytes(), grad)
        if key not in last:
            answer = objective(theta, grad)
            last.clear()
            last[key] = (answer[0], answer[1].copy())
        value, gradient = last[key]
        return value, gradient.copy()

    return evaluate


def _distinct(results: list[Stepped]) -> list[Stepped]:
    """The best optimum, and the runner-up if it is another one: elsewhere, and not just as good.

    Two points of the Pareto/NBD's flat ``s, beta`` ridge can lie far apart with the same likelihood; they
    are one optimum, which carrying both to all rows would only find twice.
    """
    best, value = results[0][0], results[0][1]
    return results[:1] + [
        res
        for res in results[1:2]
        if np.max(np.abs(res[0] - best)) > 0.05 and res[1] - value > 1e-5 * max(1.0, abs(value))
    ]


def _refine(
    objective: Objective,
    weight: float,
    theta: FloatArray,
    hessian: FloatArray,
    max_steps: int = 20,
    gtol: float = NEWTON_GTOL,
) -> tuple[FloatArray, float, bool, str, FloatArray]:
    """Carry a sample's optimum ``theta`` to a larger sample or all rows with quasi-Newton steps from the
    smaller sample's ``hessian`` (of the mean negative log-likelihood); ``_finish`` if they do not converge.
    Also returns the Hessian as the steps updated it.

    A sample's Hessian is within sampling error of that of all rows, so Newton steps with it converge from
    the sample's optimum, and BFGS updates from the full gradients make that superlinear: about one gradient
    over all rows a step, where exact Newton steps take ``d + 1``.
    """
    value, grad = _safe(objective, theta, True, weight)
    for _ in range(max_steps):
        free = _free(theta, grad)
        if _flat(grad, free, gtol):
            return theta, value, True, "converged", hessian
        step = _descent(hessian, grad, free)
        slope = float(grad @ step)
        rounding = 1e-14 * max(1.0, abs(value))
        if -slope < rounding:
            return theta, value, True, "converged", hessian
        found = _line_search(objective, theta, value, grad, step, slope, rounding, weight)
        if found is None:
            break
        trial, trial_value, trial_grad = found
        s, y = trial - theta, trial_grad - grad
        curvature = float(s @ y)
        if curvature > 1e-12 * float(np.sqrt((s @ s) * (y @ y))):  # keeps the Hessian positive definite
            hs = hessian @ s
            hessian = hessian - hs[:, None] * hs / float(s @ hs) + y[:, None] * y / curvature
        theta, value, grad = trial, trial_value, trial_grad
    if gtol > NEWTON_GTOL:  # a step on the way: where it got to is as good a start as any
        return theta, value, False, "refinement step limit", hessian
    return (*_finish(objective, theta, weight), hessian)


def _hessian(
    objective: Objective,
    theta: FloatArray,
    weight: float,
    grad: FloatArray | None = None,
    free: npt.NDArray[np.bool_] | None = None,
) -> FloatArray:
    """Forward difference of the analytic gradient (``grad``, at ``theta``, if known) of the mean negative
    log-likelihood, symmetrised; only the columns of the ``free`` parameters, if given (the others are
    left as the identity's: a step never moves them)."""
    if grad is None:
        grad = _safe(objective, theta, True, weight)[1]
    hessian = np.eye(theta.shape[0])
    for i in range(theta.shape[0]) if free is None else np.flatnonzero(free):
        shifted = theta.copy()
        shifted[i] += NEWTON_STEP
        hessian[:, i] = (_safe(objective, shifted, True, weight)[1] - grad) / NEWTON_STEP
    return 0.5 * (hessian + hessian.T)


def _free(theta: FloatArray, grad: FloatArray) -> npt.NDArray[np.bool_]:
    """The parameters a descent may move: all but those on the search box's edge whose gradient (of the
    negative log-likelihood) pushes them further out.

    Where the data do not identify a parameter (a Pareto/NBD's ``s`` and ``beta`` growing together when
    everyone's death rate is about the same), the likelihood keeps rising towards the edge and its gradient
    never vanishes there: tested on every parameter, the refinement and Newton's steps ran to their limits
    and L-BFGS-B after them, a hundred and more evaluations over all the rows, for a point on the edge all
    the same. Held there, the others converge in a few steps; the result still says it reached the edge.
    """
    outward = ((theta >= LOG_BOUND - _ON_EDGE) & (grad < 0.0)) | (
        (theta <= _ON_EDGE - LOG_BOUND) & (grad > 0.0)
    )
    return np.asarray(~outward)


_ON_EDGE = 1e-9  # the line search clips a step to the edge exactly


def _flat(grad: FloatArray, free: npt.NDArray[np.bool_], gtol: float) -> bool:
    """Whether the gradient in the ``free`` parameters is below ``gtol``, or ``EDGE_GTOL`` when any
    parameter is held on the edge."""
    return _largest(grad[free], empty=0.0) < (gtol if free.all() else max(gtol, EDGE_GTOL))


def _descent(hessian: FloatArray, grad: FloatArray, free: npt.NDArray[np.bool_] | None = None) -> FloatArray:
    """The Newton step with the Hessian's eigenvalues made positive (``_positive_inverse``), in the ``free``
    parameters only if given (the Newton step of the likelihood with the others held where they are)."""
    if free is None or free.all():
        return np.asarray(-(_positive_inverse(hessian) @ grad))
    step = np.zeros_like(grad)
    if free.any():
        step[free] = -(_positive_inverse(hessian[np.ix_(free, free)]) @ grad[free])
    return step


def _positive_inverse(hessian: FloatArray) -> FloatArray:
    """The inverse of ``hessian`` with its eigenvalues made positive (their absolute values, floored)."""
    eigenvalues, vectors = np.linalg.eigh(hessian)
    floor = max(_largest(eigenvalues), 1e-12) * 1e-10
    return np.asarray((vectors / np.maximum(np.abs(eigenvalues), floor)) @ vectors.T)


def _line_search(
    objective: Objective,
    theta: FloatArray,
    value: float,
    grad: FloatArray,
    step: FloatArray,
    slope: float,
    rounding: float,
    weight: float,
) -> tuple[FloatArray, float, FloatArray] | None:
    """Armijo backtracking from the full step, clipped to the search box; ``None`` when no step length of at
    least 1e-6 is downhill.

    A step that leaves the box is first tried as far as the edge along its own direction: clipped, it
    turns. Along a ridge (a Pareto/NBD's ``s`` and ``beta`` growing together) the turned step leaves the
    ridge, where the likelihood drops steeply, and backtracking then crawled along it a step at a time.
    """
    reach = _reach(theta, step)
    lengths = itertools.chain([reach] if 1e-6 < reach < 1.0 else [], (0.5**n for n in range(20)))
    for length in lengths:
        trial = np.minimum(np.maximum(theta + length * step, -LOG_BOUND), LOG_BOUND)  # np.clip: 2x slower
        trial_value, trial_grad = _safe(objective, trial, True, weight)
        if trial_value <= value + 1e-4 * length * slope:
            return trial, trial_value, trial_grad
        flat = trial_value <= value + rounding and _largest(trial_grad) < _largest(grad)
        if flat:  # no measurable change in value, but closer to the stationary point
            return trial, trial_value, trial_grad
    return None


def _reach(theta: FloatArray, step: FloatArray) -> float:
    """How much of ``step`` stays in the search box (1.0 for all of it), leaving out the parameters on its
    edge already: a step along the edge is clipped there."""
    room = np.where(step > 0.0, LOG_BOUND - theta, -LOG_BOUND - theta)
    moving = (step != 0.0) & (np.abs(room) > _ON_EDGE)
    if not moving.any():
        return 1.0
    return float(min(1.0, np.min(room[moving] / step[moving])))


def _newton(
    objective: Objective, theta: FloatArray, weight: float, max_steps: int = 12
) -> tuple[FloatArray, float, bool, str]:
    """Damped Newton steps on the mean negative log-likelihood.

    The Hessian is the forward difference of the analytic gradient (``d + 1`` gradient evaluations per step),
    made positive definite by clipping its eigenvalues; an Armijo line search keeps every step downhill.
    Converges quadratically near the optimum, where L-BFGS-B crawls along ill-conditioned valleys.
    """
    value, grad = _safe(objective, theta, True, weight)
    for _ in range(max_steps):
        free = _free(theta, grad)
        if _flat(grad, free, NEWTON_GTOL):
            return theta, value, True, "converged"
        step = _descent(_hessian(objective, theta, weight, grad, free), grad, free)
        slope = float(grad @ step)
        rounding = 1e-14 * max(1.0, abs(value))
        if -slope < rounding:  # the predicted gain is below what the objective can resolve
            return theta, value, True, "converged"
        found = _line_search(objective, theta, value, grad, step, slope, rounding, weight)
        if found is None:
            return theta, value, False, "Newton line search failed"
        theta, value, grad = found
    free = _free(theta, grad)
    converged = _flat(grad, free, NEWTON_GTOL)
    return theta, value, converged, "Newton step limit"


def fit_rfm(
    data: Customers,
    objective_for: Callable[[Customers], Objective],
    centre: FloatArray,
    *,
    standard_errors: bool = True,
    start: Callable[[float], FloatArray] | None = None,
    totals_for: Callable[[Customers], Totals] | None = None,
) -> Optimum:
    """Fit a transaction model to ``(x, t_x, T)`` rows: time rescaled to unit mean age, screening sample
    when large. ``theta`` comes back in rescaled units (rates scale with time); ``log_likelihood`` in the
    caller's units (the density of ``x`` purchase times gains ``-x log(scale)``). ``standard_errors``:
    the covariance of the estimates too (``log_covariance``: 2 gradients a parameter over all the rows),
    which a refresh that only scores customers leaves out. ``start``: the log-parameters to start from,
    given the time scale (``maximise``). ``totals_for``: the log-likelihood at many points in one call,
    if the model has it (``objective_for``'s one point at a time otherwise), to rank the starts with."""
    with one_blas_thread():
        return _fit_rfm(
            data,
            objective_for,
            centre,
            standard_errors=standard_errors,
            start=start,
            totals_for=totals_for or (lambda rows: one_at_a_time(objective_for(rows))),
        )


def _fit_rfm(
    data: Customers,
    objective_for: Callable[[Customers], Objective],
    centre: FloatArray,
    *,
    standard_errors: bool,
    start: Callable[[float], FloatArray] | None,
    totals_for: Callable[[Customers], Totals],
) -> Optimum:
    total_weight = float(data.weights.sum())
    scale = float(np.einsum("i,i->", data.T, data.weights)) / total_weight
    scaled = Customers(data.x, data.t_x / scale, data.T / scale, data.weights)
    samples: tuple[Sample, ...] = ()
    ranking: tuple[Totals, float] | None = None
    if data.x.shape[0] > SCREEN_ABOVE_ROWS:
        samples, ranking = _search_samples(scaled, objective_for, totals_for)
    objective = objective_for(scaled)
    optimum = maximise(
        objective,
        centre=centre,
        total_weight=total_weight,
        samples=samples,
        ranking=ranking,
        start=None if start is None else np.clip(start(scale), -LOG_BOUND + 0.5, LOG_BOUND - 0.5),
    )
    covariance = log_covariance(objective, optimum.theta, optimum.gradient) if standard_errors else None
    shift = float(np.einsum("i,i->", data.weights, data.x)) * np.log(scale)
    return replace(
        optimum, log_likelihood=optimum.log_likelihood - shift, scale=scale, log_covariance=covariance
    )


def _search_samples(
    data: Customers,
    objective_for: Callable[[Customers], Objective],
    totals_for: Callable[[Customers], Totals],
) -> tuple[tuple[Sample, ...], tuple[Totals, float]]:
    """Nested seeded samples for ``maximise``: the starts are ranked on 300 customers (most are far from any
    optimum, where the Pareto/NBD's hypergeometric terms need quadrature), searched from on 500, and what
    that finds is refined on 5,000, then on all rows."""
    nested: list[Customers] = []  # largest first
    sample = data
    for size, seed in ((SCREEN_CUSTOMERS, 0), (SCORE_CUSTOMERS, 1), (RANK_CUSTOMERS, 2)):
        rows, counts = subsample_customers(sample.weights, size, seed=seed)
        sample = _take(sample, rows, counts)
        nested.append(sample)
    searched = tuple((objective_for(rows), float(rows.weights.sum())) for rows in reversed(nested[:2]))
    return searched, (totals_for(nested[2]), float(nested[2].weights.sum()))


_blas: list[Any] = []  # the threadpoolctl controller, made once: making one scans the loaded libraries


def one_blas_thread() -> AbstractContextManager[Any]:
    """BLAS limited to one thread while a fit runs.

    The fits' linear algebra is on 4x4 matrices and their sums are vector reductions: a second BLAS thread
    brings nothing but its start-up and, on a busy machine, waits for a core (a BG/NBD fit on 200,000
    customers took 0.21 s of wall time with two threads, 0.11 s with one).
    """
    from threadpoolctl import ThreadpoolController

    if not _blas:
        _blas.append(ThreadpoolController())
    return cast(AbstractContextManager[Any], _blas[0].limit(limits=1, user_api="blas"))


def _take(data: Customers, rows: IntArray, weights: FloatArray) -> Customers:
    return Customers(data.x[rows], data.t_x[rows], data.T[rows], weights)


# --- standard errors -------------------------------------------------------------------------------------

HESSIAN_STEP = 1e-4  # central-difference step in log-parameters
FORWARD_STEP = 1e-5  # forward-difference step: its O(h) error is 1e-5 of a standard error


def log_covariance(
    objective: Objective, theta: FloatArray, gradient: FloatArray | None = None
) -> FloatArray | None:
    """Covariance of the log-parameters ``theta`` at the optimum: the inverse observed information.

    ``objective`` is the (weighted: each aggregated row counts as its customers) log-likelihood over
    ``theta``. The Hessian of the negative log-likelihood is the central difference of the analytic
    gradient (the forward difference from ``gradient``, the gradient at ``theta``, when given), symmetrised.
    A rescaling of the data (time, money) shifts ``theta`` by constants, so this
    covariance holds in the caller's units too. ``None`` when the information is not positive definite
    (a parameter the data do not identify).
    """
    d = theta.shape[0]
    hessian = np.empty((d, d))
    for i in range(d):
        up, down = theta.copy(), theta.copy()
        if gradient is not None:  # d gradients over all rows instead of 2d, on the fits' large data
            up[i] += FORWARD_STEP
            with np.errstate(all="ignore"):
                hessian[:, i] = -(objective(up, True)[1] - gradient) / FORWARD_STEP
            continue
        up[i] += HESSIAN_STEP
        down[i] -= HESSIAN_STEP
        with np.errstate(all="ignore"):
            g_up, g_down = objective(up, True)[1], objective(down, True)[1]
        hessian[:, i] = -(g_up - g_down) / (2.0 * HESSIAN_STEP)
    return inverse_information(hessian)


def inverse_information(information: FloatArray) -> FloatArray | None:
    """The covariance from the observed information (the negative log-likelihood's Hessian, symmetrised
    here); ``None`` when it is not finite or not positive definite (a parameter the data do not identify)."""
    information = 0.5 * (information + information.T)
    if not np.all(np.isfinite(information)):
        return None
    eigenvalues = np.linalg.eigvalsh(information)
    if float(eigenvalues.min()) <= 1e-12 * max(float(np.abs(eigenvalues).max()), 1e-300):
        return None
    return np.asarray(np.linalg.inv(information), dtype=np.float64)


def natural_covariance(log_cov: FloatArray | None, values: FloatArray) -> FloatArray | None:
    """The covariance of the parameters ``values = exp(theta) * constants`` from that of ``theta``.

    At the optimum (zero gradient) the Hessian in ``v`` is ``D^-1 H_theta D^-1`` with ``D = diag(v)``, so
    ``Cov(v) = D Cov(theta) D``: the standard errors on the models' natural scale, as other packages report.
    """
    if log_cov is None:
        return None
    return np.asarray(log_cov * np.outer(values, values), dtype=np.float64)


def _safe(objective: Objective, theta: FloatArray, grad: bool, weight: float) -> tuple[float, FloatArray]:
    """Negative mean log-likelihood (and gradient); non-finite values become a large finite penalty."""
    with np.errstate(all="ignore"):
        value, gradient = objective(theta, grad)
    if not math.isfinite(value) or (grad and not np.isfinite(gradient).all()):
        return 1e10, np.zeros_like(theta)
    return -value / weight, -gradient / weight


def _largest(values: FloatArray, empty: float | None = None) -> float:
    """The largest absolute value (``empty`` if there is none): the optimisers' test of a gradient, a few
    microseconds a call less than ``np.max(np.abs(...))``, which adds up over the hundred or so steps of a
    fit."""
    if empty is not None and not values.shape[0]:
        return empty
    return float(np.abs(values).max())


def _bfgs(
    objective: Objective,
    theta: FloatArray,
    weight: float,
    gtol: float = 1e-9,
    max_steps: int = 200,
    hessian: FloatArray | None = None,
) -> Stepped:
    """BFGS with an Armijo line search, steps clipped to the search box: L-BFGS-B's job, without its cost.

    It starts from ``hessian`` or, without, the Hessian by differences at ``theta`` (``d`` more gradients):
    from a scaled identity, BFGS crept along the BG/NBD's and Pareto/NBD's curved valleys for 15 to 20 steps
    from most starts, from this it takes 6 to 10. Returns the Hessian its updates ended with too, which the
    refinements start from."""
    value, grad = _safe(objective, theta, True, weight)
    inverse = _positive_inverse(_hessian(objective, theta, weight, grad) if hessian is None else hessian)
    identity = np.eye(theta.shape[0])
    for _ in range(max_steps):
        free = _free(theta, grad)
        if _flat(grad, free, gtol):
            return theta, value, True, "converged", _positive_inverse(inverse)
        step = -(inverse @ grad) if free.all() else _descent(_positive_inverse(inverse), grad, free)
        slope = float(grad @ step)
        if slope >= 0.0:  # not a descent direction (the box clipped a step): start again from steepest
            inverse = identity
            step = np.where(free, -grad, 0.0)
            slope = float(grad @ step)
        rounding = 1e-14 * max(1.0, abs(value))
        if -slope < rounding:
            return theta, value, True, "converged", _positive_inverse(inverse)
        found = _line_search(objective, theta, value, grad, step, slope, rounding, weight)
        if found is None:
            return theta, value, False, "line search failed", _positive_inverse(inverse)
        trial, trial_value, trial_grad = found
        s, y = trial - theta, trial_grad - grad
        curvature = float(s @ y)
        if curvature > 1e-12 * float(np.sqrt((s @ s) * (y @ y))):
            rho = 1.0 / curvature
            v = identity - rho * s[:, None] * y
            inverse = v @ inverse @ v.T + rho * s[:, None] * s
        gain = value - trial_value
        theta, value, grad = trial, trial_value, trial_grad
        if 0.0 <= gain < 1e-10 * max(1.0, abs(value)):
            return theta, value, True, "converged", _positive_inverse(inverse)
    return theta, value, False, "BFGS step limit", _positive_inverse(inverse)


def _lbfgsb(
    objective: Objective, theta0: FloatArray, weight: float, gtol: float = 1e-9
) -> tuple[FloatArray, float, bool, str]:
    result = minimize(
        lambda theta: _safe(objective, np.asarray(theta, dtype=np.float64), True, weight),
        theta0,
        jac=True,
        method="L-BFGS-B",
        bounds=[(-LOG_BOUND, LOG_BOUND)] * theta0.shape[0],
        options={"maxiter": 2000, "ftol": 1e-15 if gtol < 1e-6 else 1e-8, "gtol": gtol, "maxcor": 20},
    )
    return (
        np.asarray(result.x, dtype=np.float64),
        float(result.fun),
        bool(result.success),
        str(result.message),
    )
