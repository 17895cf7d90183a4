"""Typed special functions and the quadrature rules the models share.

SciPy ships no type information, so its special functions are wrapped here once. SciPy's ``hyp2f1`` is
deliberately not used: it returns ``inf`` near ``z = 1`` when ``c - a - b`` is an integer (``a=1, b=2,
c=103, z=0.95``: true value 1.02), which is exactly where the BTYD expressions go for long horizons. The
hypergeometric quantities are computed instead by a positive series (Pareto/NBD, small ``z``) or by
double-exponential quadrature of an integral representation (everything else); both are accurate to about
1e-13.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt
from scipy import special as _sp  # type: ignore[import-untyped]

FloatArray = npt.NDArray[np.float64]
LogIntegrand = Callable[[FloatArray, FloatArray], FloatArray]


def dot(a: FloatArray, b: FloatArray) -> float:
    """``a @ b`` without BLAS: its threaded dot product stalls for milliseconds on a busy machine."""
    return float(np.einsum("i,i->", a, b))


def gammaln(x: FloatArray | float) -> FloatArray:
    return np.asarray(_sp.gammaln(x), dtype=np.float64)


def digamma(x: FloatArray | float) -> FloatArray:
    return np.asarray(_sp.digamma(x), dtype=np.float64)


def trigamma(x: FloatArray | float) -> FloatArray:
    return np.asarray(_sp.zeta(2.0, x), dtype=np.float64)  # polygamma(1, x), without its Python overhead


def betaln(a: FloatArray | float, b: FloatArray | float) -> FloatArray:
    return np.asarray(_sp.betaln(a, b), dtype=np.float64)


def betainc(a: FloatArray | float, b: FloatArray | float, x: FloatArray | float) -> FloatArray:
    """The regularised incomplete beta function ``I_x(a, b)``."""
    return np.asarray(_sp.betainc(a, b, x), dtype=np.float64)


def expit(x: FloatArray | float) -> FloatArray:
    return np.asarray(_sp.expit(x), dtype=np.float64)


def log_expit(x: FloatArray | float) -> FloatArray:
    """``log(1 / (1 + exp(-x)))`` without overflow."""
    return np.asarray(_sp.log_expit(x), dtype=np.float64)


def log1mexp(d: FloatArray) -> FloatArray:
    """``log(1 - exp(d))`` for ``d <= 0`` (``-inf`` at ``d = 0``), accurate on the whole range."""
    d = np.minimum(d, 0.0)
    with np.errstate(divide="ignore"):
        return np.where(d > -0.6931471805599453, np.log(-np.expm1(d)), np.log1p(-np.exp(d)))


def logaddexp(a: FloatArray, b: FloatArray) -> FloatArray:
    """``np.logaddexp(a, b)`` (``-inf`` where both are) at two thirds of the cost: that ufunc takes about
    25 ns an element here, as much as the logarithm and exponential it is made of plus the rest."""
    top = np.maximum(a, b)
    with np.errstate(invalid="ignore"):
        gap = -np.abs(a - b)  # NaN where both are -inf
    return np.asarray(top + np.log1p(np.exp(np.where(gap <= 0.0, gap, -np.inf))), dtype=np.float64)


def logsumexp_rows(a: FloatArray) -> FloatArray:
    """Row-wise ``log(sum(exp(a)))`` of a 2-D array."""
    top = np.max(a, axis=1)
    top = np.where(np.isfinite(top), top, 0.0)
    with np.errstate(divide="ignore"):
        return np.asarray(top + np.log(np.sum(np.exp(a - top[:, None]), axis=1)), dtype=np.float64)


# --- quadrature rules ----------------------------------------------------------------------------------
# Double-exponential rules (Takahashi & Mori 1974). They converge geometrically for integrands that are
# analytic inside the interval, whatever algebraic singularity sits at an end point, so one fixed rule
# serves every customer and parameter value.


def _tanh_sinh(step: float = 1 / 12, half_width: float = 3.6) -> tuple[FloatArray, FloatArray]:
    """Log-nodes ``log u`` for ``u`` on (0, 1) and log-weights."""
    tau = np.arange(-half_width, half_width + step / 2, step)
    s = np.pi * np.sinh(tau)
    log_u = log_expit(s)
    log_w = np.log(step * np.pi * np.cosh(tau)) + log_u + log_expit(-s)
    return log_u, log_w


def _exp_sinh(step: float = 1 / 16, low: float = -4.5, high: float = 3.2) -> tuple[FloatArray, FloatArray]:
    """Nodes ``v`` on (0, inf) and log-weights."""
    tau = np.arange(low, high + step / 2, step)
    log_v = 0.5 * np.pi * np.sinh(tau)
    log_w = np.log(step * 0.5 * np.pi * np.cosh(tau)) + log_v
    return np.exp(log_v), log_w


TS_LOG_U, TS_LOG_W = _tanh_sinh()
TS_U = np.exp(TS_LOG_U)
ES_V, ES_LOG_W = _exp_sinh()
ES_EXP_MINUS_V = np.exp(-ES_V)
_CHUNK = 8192


# --- F(1, k; n; z) -------------------------------------------------------------------------------------


def log_hyp1(
    k: FloatArray, n: FloatArray, z: FloatArray, eps: FloatArray, *, grad: bool
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """``log 2F1(1, k; n; z)`` for ``0 < k < n``, ``0 <= z < 1``, ``eps = 1 - z`` given accurately.

    Returns the log and, if ``grad``, its partial derivatives with respect to ``k``, ``n`` and ``z``
    (zeros otherwise). For ``z <= 0.85``: the series ``sum_j (k)_j / (n)_j z^j``, whose terms are positive
    and at most ``z^j``, truncated where the rest is below 1e-17 and differentiated term by term. Above:
    the integral ``2F1(1, k; n; z) = (n - 1) int_0^inf exp(-(n-1) v) (eps + z e^-v)^-k dv`` by exp-sinh
    quadrature, accurate however close to 1 ``z`` gets and whatever ``n - k - 1`` is.
    """
    out = np.zeros((4, z.shape[0]))
    lower = -1.0
    for upper, terms in _SERIES_BANDS:
        idx = np.flatnonzero((z > lower) & (z <= upper))
        for start in range(0, idx.shape[0], _CHUNK):
            part = idx[start : start + _CHUNK]
            out[:, part] = _hyp1_series(k[part], n[part], z[part], terms, grad)
        lower = upper
    idx = np.flatnonzero(z > lower)
    for start in range(0, idx.shape[0], _CHUNK):
        part = idx[start : start + _CHUNK]
        out[:, part] = _hyp1_quadrature(k[part], n[part], z[part], eps[part], grad)
    return out[0], out[1], out[2], out[3]


# (largest z, number of terms): the remainder, at most z^terms / (1 - z), is below 1e-17 in each band.
_SERIES_BANDS = ((0.0, 1), (0.02, 13), (0.1, 22), (0.25, 36), (0.4, 52), (0.6, 84), (0.75, 150), (0.85, 260))


SERIES_MAX_Z = 0.85  # above: quadrature (``_hyp1_quadrature``)
_RUN_BANDS = -np.array([SERIES_MAX_Z, 0.7, 0.5, 0.3, 0.1])  # series rows summed together, by largest z
_SHORT_RUN = 64


def log_hyp1_runs(
    k: FloatArray, n: FloatArray, starts: npt.NDArray[np.intp], z: FloatArray, eps: FloatArray, *, grad: bool
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """``log_hyp1`` for rows in runs that share ``k`` and ``n``: run ``g`` is rows ``starts[g]`` to
    ``starts[g+1]`` (the last to the end) with ``k[g], n[g]``, and ``z`` does not increase within a run.

    In a run the series is a polynomial in ``z`` whose coefficients ``(k)_j / (n)_j`` (and their
    derivatives in ``k`` and ``n``) are computed once, so each row costs its powers of ``z`` and one small
    matrix product: the Pareto/NBD's rows are runs of one frequency ``x`` sorted by time, which makes its
    likelihood several times cheaper than ``log_hyp1`` row by row. Rows with ``z > 0.85`` (a prefix of
    their run), and short runs (the rare large frequencies), go to ``log_hyp1`` together.
    """
    rows = z.shape[0]
    out = np.zeros((4, rows))
    bounds = np.append(starts, rows)
    by_row: list[tuple[int, int, int]] = []  # (run, first row, end): rows left to log_hyp1
    for g in range(starts.shape[0]):
        lo, hi = int(bounds[g]), int(bounds[g + 1])
        if hi - lo < _SHORT_RUN:  # a polynomial per band would cost more calls than it saves
            if hi > lo:
                by_row.append((g, lo, hi))
            continue
        # z falls along the run: the quadrature's rows first, then bands that each need fewer terms
        cuts = lo + np.searchsorted(-z[lo:hi], _RUN_BANDS, side="left")
        split = int(cuts[0])
        if split > lo:
            by_row.append((g, lo, split))
        for first, last in zip(cuts.tolist(), [*cuts[1:].tolist(), hi], strict=True):
            if last > first:
                _hyp1_polynomial(float(k[g]), float(n[g]), z[first:last], grad, out[:, first:last])
    if by_row:
        runs, los, his = (np.array(column, dtype=np.intp) for column in zip(*by_row, strict=True))
        lengths = his - los
        idx = np.repeat(his - lengths.cumsum(), lengths) + np.arange(int(lengths.sum()))
        kr, nr = np.repeat(k[runs], lengths), np.repeat(n[runs], lengths)
        out[:, idx] = np.array(log_hyp1(kr, nr, z[idx], eps[idx], grad=grad))
    return out[0], out[1], out[2], out[3]


def _series_terms(z: float) -> int:
    """Powers of ``z`` to sum so that the rest of the series, below ``z^J / (1 - z)``, is under 1e-17."""
    if z <= 1e-17:
        return 1
    return int(np.ceil(np.log(1e-17 * (1.0 - z)) / np.log(z))) + 1


def _hyp1_polynomial(k: float, n: float, z: FloatArray, grad: bool, out: FloatArray) -> None:
    """Write ``log_hyp1``'s four rows for one run's ``z`` (largest first) into ``out``."""
    # z[0] is the largest; two terms at least, for the derivative in z (k / n at z = 0, alpha = beta)
    terms = max(_series_terms(float(z[0])), 3)
    j = np.arange(terms - 1, dtype=np.float64)  # coefficient j+1 of the series, j = 0 .. terms-2
    coefficient = np.cumprod((k + j) / (n + j))
    # z^(j+1) in row j, a row at a time: np.cumprod along either axis runs element by element, 25x slower
    powers = np.empty((terms - 1, z.shape[0]))
    powers[0] = z
    for row in range(1, terms - 1):
        np.multiply(powers[row - 1], z, out=powers[row])
    if not grad:
        out[0] = np.log1p(coefficient @ powers)
        out[1:] = 0.0
        return
    basis = np.empty((4, terms - 1))
    basis[0] = coefficient
    basis[1] = coefficient * np.cumsum(1.0 / (k + j))
    basis[2] = -coefficient * np.cumsum(1.0 / (n + j))
    basis[3, :-1] = (j[1:] + 1.0) * coefficient[1:]  # d/dz: (j+1) c_(j+1) z^j, shifted by one power
    basis[3, -1] = 0.0
    sums = basis @ powers
    total = 1.0 + sums[0]
    out[0] = np.log(total)
    out[1] = sums[1] / total
    out[2] = sums[2] / total
    out[3] = (coefficient[0] + sums[3]) / total


def _hyp1_series(k: FloatArray, n: FloatArray, z: FloatArray, terms: int, grad: bool) -> FloatArray:
    # Term by term over whole rows: np.cumprod / np.cumsum along an axis of a rows x terms array go element
    # by element here, about 20x slower than these vector operations; but on a few rows the loop's 16
    # operations a term cost more than that, so they keep the rows x terms array.
    if z.shape[0] * 8 < terms * 100:
        return _hyp1_series_matrix(k, n, z, terms, grad)
    result = np.zeros((4, z.shape[0]))
    total = np.ones(z.shape[0])
    term = np.ones(z.shape[0])
    if grad:
        d_k, d_n, d_z = np.zeros_like(total), np.zeros_like(total), np.zeros_like(total)
        sum_k, sum_n = np.zeros_like(total), np.zeros_like(total)
    for j in range(terms):
        kj, nj = k + j, n + j
        term *= kj / nj  # term j times the ratio: d(term j+1)/dz divided by (j+1)
        if grad:
            d_z += (j + 1.0) * term
            sum_k += 1.0 / kj
            sum_n += 1.0 / nj
        term *= z  # term j+1 of the series
        total += term
        if grad:
            d_k += term * sum_k
            d_n += term * sum_n
    result[0] = np.log(total)
    if grad:
        result[1] = d_k / total
        result[2] = -d_n / total
        result[3] = d_z / total
    return result


def _hyp1_series_matrix(k: FloatArray, n: FloatArray, z: FloatArray, terms: int, grad: bool) -> FloatArray:
    result = np.zeros((4, z.shape[0]))
    j = np.arange(terms, dtype=np.float64)[None, :]
    kj = k[:, None] + j
    nj = n[:, None] + j
    ratio = kj / nj
    term = np.cumprod(ratio * z[:, None], axis=1)  # term j+1 of the series, j = 0 .. terms-1
    total = 1.0 + term.sum(axis=1)
    result[0] = np.log(total)
    if grad:
        previous = np.concatenate([np.ones((z.shape[0], 1)), term[:, :-1]], axis=1)
        result[1] = np.sum(term * np.cumsum(1.0 / kj, axis=1), axis=1) / total
        result[2] = -np.sum(term * np.cumsum(1.0 / nj, axis=1), axis=1) / total
        result[3] = np.sum((j + 1.0) * previous * ratio, axis=1) / total
    return result


def _hyp1_quadrature(k: FloatArray, n: FloatArray, z: FloatArray, eps: FloatArray, grad: bool) -> FloatArray:
    # In v the log-integrand is -sigma v - k log(z + eps e^v) (sigma = n-1-k): log-concave, decaying at rate
    # sigma + k eps at 0, bending where k eps e^v ~ 1 (v = B = log(1/eps) - log max(k, 1)) towards rate n-1.
    # Split at B. On (0, B): v = B (1 - e^(-rho1 w)); on (B, inf): v = B + rho2 w; exp-sinh nodes in w, and
    # rho1, rho2 rescale each piece to its initial decay rate so that the nodes resolve it.
    log_eps = np.log(eps)[:, None]
    zc, kc, nc = z[:, None], k[:, None], n[:, None]
    sigma = nc - 1.0 - kc
    bend = np.maximum(-log_eps - np.log(np.maximum(kc, 1.0)), 0.0)
    q = np.exp(log_eps + bend)
    rho1 = 1.0 / np.maximum(1.0, (sigma + kc * eps[:, None]) * bend)
    rho2 = 1.0 / np.maximum(1.0, sigma + kc * q / (zc + q))
    w = ES_V[None, :]
    v = np.concatenate([-bend * np.expm1(-rho1 * w), bend + rho2 * w], axis=1)
    e = np.exp(-v)
    log_inner = np.log(eps[:, None] + zc * e)
    with np.errstate(divide="ignore"):
        log_w1 = np.log(bend * rho1) - rho1 * w + ES_LOG_W[None, :]  # -inf where the first piece is empty
    log_w2 = np.log(rho2) + ES_LOG_W[None, :]
    phi = -(nc - 1.0) * v - kc * log_inner + np.concatenate([log_w1, log_w2], axis=1)
    log_k = logsumexp_rows(phi)
    result = np.zeros((4, z.shape[0]))
    result[0] = np.log(n - 1.0) + log_k
    if grad:
        weight = np.exp(phi - log_k[:, None])
        result[1] = -np.sum(weight * log_inner, axis=1)
        result[2] = 1.0 / (n - 1.0) - np.sum(weight * v, axis=1)
        result[3] = k * np.sum(weight * (1.0 - e) * np.exp(-log_inner), axis=1)
    return result


# --- integrals for predictions ---------------------------------------------------------------------------


def beta_expectation(
    a: float | FloatArray, b: FloatArray, log_h: LogIntegrand, *, split: float = 0.5
) -> FloatArray:
    """``E[h(p)]`` for ``p ~ Beta(a, b)`` (``b``, and ``a`` if an array, one value per row), by tanh-sinh
    quadrature.

    ``log_h(log_p, log_1mp)`` returns ``log h`` at the nodes (rows x nodes). The integral is split at
    ``p = split`` and each half is mapped so that the Beta density's end-point singularity disappears
    (``p = u^(1/a)`` on the left, ``1 - p = u^(1/b)`` on the right), which keeps it accurate for any
    ``a, b > 0``.
    """
    b2 = b[:, None]
    a2 = np.reshape(np.asarray(a, dtype=np.float64), (-1, 1))  # one row, or one per row of b
    log_split, log_1msplit = np.log(split), np.log1p(-split)
    # Left: p = u^(1/a) with u in (0, split^a), so that p^(a-1) dp = du / a.
    log_p = (a2 * log_split + TS_LOG_U[None, :]) / a2
    log_1mp = log1mexp(log_p)
    left = (b2 - 1.0) * log_1mp + log_h(log_p, log_1mp) + (a2 * log_split - np.log(a2)) + TS_LOG_W[None, :]
    # Right: 1 - p = u^(1/b) with u in (0, (1 - split)^b), so that (1 - p)^(b-1) dp = du / b.
    log_1mp_r = log_1msplit + TS_LOG_U[None, :] / b2
    log_p_r = log1mexp(log_1mp_r)
    right = (
        (a2 - 1.0) * log_p_r + log_h(log_p_r, log_1mp_r) + (b2 * log_1msplit - np.log(b2)) + TS_LOG_W[None, :]
    )
    both = np.concatenate([np.broadcast_to(left, right.shape), right], axis=1)
    return np.exp(logsumexp_rows(both) - betaln(a, b))


def discounted_survival(s: float, scale: FloatArray, delta: float) -> FloatArray:
    """``int_0^inf exp(-delta tau) (scale / (scale + tau))^s dtau`` per value of ``scale``.

    Equal to ``scale^s delta^(s-1) U(s, s; delta scale)`` (Tricomi's confluent hypergeometric function),
    computed by exp-sinh quadrature in ``y = tau / scale``.
    """
    y = ES_V[None, :]
    log_terms = -delta * scale[:, None] * y - s * np.log1p(y) + ES_LOG_W[None, :]
    return scale * np.exp(logsumexp_rows(log_terms))
