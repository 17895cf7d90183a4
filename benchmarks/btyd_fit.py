"""Buy-till-you-die fits at scale: segone vs lifetimes 0.11.3 and PyMC-Marketing's MAP, on the same customers.

    .venv/bin/python benchmarks/btyd_fit.py [--sizes 30000,200000,1000000] [--kinds day,continuous]
        [--models BG/NBD,Pareto/NBD,Gamma-Gamma] [--seed 20261127] [--subsample 100000] [--budget 900]
        [--repeats 3] [--pymc-python .venv-pymc/bin/python] [--json results.json]

Two kinds of data, each at every size of ``--sizes``:

* ``day``: customers from the BG/NBD process with the CDNOW estimates of Fader, Hardie & Lee (2005)
  (r=0.243, alpha=4.414, a=0.793, b=2.426; time in weeks), acquired uniformly over 12 weeks, observed to the
  end of week 39 and recorded to the day, with spend per transaction from the Gamma-Gamma model with the
  Fader & Hardie (2013) estimates (p=6.25, q=3.74, gamma=15.44). Every model is fitted to them (the
  Pareto/NBD misspecified but well defined). Many customers share a ``(x, t_x, T)``.
* ``continuous``: the same BG/NBD process and spend with recency and age not rounded (BG/NBD and
  Gamma-Gamma rows), and for the Pareto/NBD rows customers from the Pareto/NBD process with real dropout
  (r=0.55, alpha=10.58 as on CDNOW, s=0.7, beta=12 weeks; exponential lifetimes), times not rounded either.
  Nearly every customer is a distinct row.

Peers, each warmed up by one fit on 2,000 customers before anything is timed:

1. segone, ``standard_errors=False`` (what the behaviour refresh runs) and ``True`` (the default); each
   time is the median of ``--repeats`` fits;
2. lifetimes (``BetaGeoFitter().fit``, ``ParetoNBDFitter().fit`` with its default Nelder-Mead, seeded,
   ``GammaGammaFitter().fit`` on the repeat customers), once. Above ``--subsample`` customers it first
   runs on a seeded subsample of that size; when the size over the subsample times that time exceeds
   ``--budget`` seconds, the full-size time is that extrapolation, labelled so, and the log-likelihoods
   compared are the peer's and segone's on the subsample;
3. PyMC-Marketing's maximum-a-posteriori fit (``BetaGeoModel`` / ``ParetoNBDModel`` ``.fit(method="map")``,
   flat priors, so the MAP is the maximum-likelihood estimate), for BG/NBD and Pareto/NBD, in a subprocess
   with the interpreter of ``--pymc-python`` (``benchmarks/btyd_fit_pymc.py``): the customers go to it as
   a ``.npz`` file and only the ``fit`` call is timed there; the same budget rule applies. Without the
   option the rows say "not installed". PyMC-Marketing lives in a venv of its own (it pins its own PyMC and
   PyTensor), made with::

       python3.11 -m venv .venv-pymc && .venv-pymc/bin/pip install pymc-marketing

Times are wall-clock seconds; ``--clock cpu`` takes the CPU seconds of the fitting process instead (all
its threads; PyMC-Marketing's in its subprocess), which other work on a busy machine disturbs less.

Log-likelihoods are all computed with segone's likelihood functions on the data each fit saw, so they are
comparable (the tests check that they agree with lifetimes' own on CDNOW). The target of issue 14 is at
least 20x lifetimes' time with an equal or better log-likelihood (within 1e-9 relative), on every row.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from segone.behaviour.btyd import bgnbd, gammagamma, paretonbd
from segone.behaviour.btyd.bgnbd import BGNBDParams
from segone.behaviour.btyd.gammagamma import GammaGammaParams
from segone.behaviour.btyd.paretonbd import ParetoNBDParams

TRUE_BGNBD = BGNBDParams(r=0.243, alpha=4.414, a=0.793, b=2.426)
TRUE_PARETO = ParetoNBDParams(r=0.55, alpha=10.58, s=0.7, beta=12.0)
TRUE_GG = GammaGammaParams(p=6.25, q=3.74, gamma=15.44)
SAME_LL = 1e-9  # relative: log-likelihoods this close count as equal
PYMC_CHILD = Path(__file__).with_name("btyd_fit_pymc.py")


@dataclass
class Sample:
    x: np.ndarray
    t_x: np.ndarray
    T: np.ndarray
    value: np.ndarray

    def take(self, rows: np.ndarray) -> Sample:
        return Sample(self.x[rows], self.t_x[rows], self.T[rows], self.value[rows])


def _spend(rng: np.random.Generator, x: np.ndarray) -> np.ndarray:
    nu = rng.gamma(TRUE_GG.q, 1.0 / TRUE_GG.gamma, x.shape[0])
    value = np.zeros(x.shape[0])
    buyers = x > 0
    value[buyers] = rng.gamma(TRUE_GG.p * x[buyers], 1.0 / nu[buyers]) / x[buyers]
    return value


def simulate(n: int, seed: int, *, by_day: bool = True) -> Sample:
    """BG/NBD customers (weeks; to the day, or not rounded) with Gamma-Gamma spend; vectorised, seeded."""
    rng = np.random.default_rng(seed)
    age = (273 - rng.integers(0, 84, n)) / 7.0 if by_day else 39.0 - rng.uniform(0.0, 12.0, n)
    lam = rng.gamma(TRUE_BGNBD.r, 1.0 / TRUE_BGNBD.alpha, n)
    p = rng.beta(TRUE_BGNBD.a, TRUE_BGNBD.b, n)
    arrivals = rng.poisson(lam * age)  # purchases the Poisson process would make in (0, T]
    lives = rng.geometric(p)  # repeat purchases up to and including the one after which they drop out
    x = np.minimum(arrivals, lives)
    # Time of the x-th of `arrivals` uniform arrival times: T * Beta(x, arrivals - x + 1).
    last = np.zeros(n)
    buyers = x > 0
    last[buyers] = age[buyers] * rng.beta(x[buyers], arrivals[buyers] - x[buyers] + 1)
    if by_day:
        last = np.minimum(np.ceil(last * 7.0), age * 7.0) / 7.0
    return Sample(x.astype(np.float64), last, age, _spend(rng, x))


def simulate_pareto(n: int, seed: int) -> Sample:
    """Pareto/NBD customers: Poisson purchases at ``lambda ~ Gamma(r, alpha)`` until an exponential death at
    ``mu ~ Gamma(s, beta)``, acquired uniformly over 12 weeks, observed to week 39, times not rounded."""
    rng = np.random.default_rng(seed)
    age = 39.0 - rng.uniform(0.0, 12.0, n)
    lam = rng.gamma(TRUE_PARETO.r, 1.0 / TRUE_PARETO.alpha, n)
    mu = rng.gamma(TRUE_PARETO.s, 1.0 / TRUE_PARETO.beta, n)
    alive_for = np.minimum(rng.exponential(1.0 / mu), age)
    x = rng.poisson(lam * alive_for)
    last = np.zeros(n)
    buyers = x > 0
    last[buyers] = alive_for[buyers] * rng.beta(x[buyers], 1.0)  # the last of x uniform purchase times
    return Sample(x.astype(np.float64), last, age, _spend(rng, x))


CLOCK: list[Callable[[], float]] = [time.perf_counter]  # --clock cpu: time.process_time


def timed(call: Callable[[], Any]) -> tuple[Any, float]:
    started = CLOCK[0]()
    result = call()
    return result, CLOCK[0]() - started


def quietly(call: Callable[[], Any]) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return call()


def lifetimes_fit(model: str, data: Sample, seed: int) -> tuple[Any, float]:
    """Fit with lifetimes; returns segone params (or None on failure) and seconds."""
    from lifetimes import BetaGeoFitter, GammaGammaFitter, ParetoNBDFitter

    np.random.seed(seed)  # ParetoNBDFitter draws its starting point from the global generator
    started = CLOCK[0]()
    try:
        if model == "BG/NBD":
            fitted = quietly(lambda: BetaGeoFitter().fit(data.x, data.t_x, data.T))
            params: Any = BGNBDParams(*(float(fitted.params_[k]) for k in ("r", "alpha", "a", "b")))
        elif model == "Pareto/NBD":
            fitted = quietly(lambda: ParetoNBDFitter().fit(data.x, data.t_x, data.T))
            params = ParetoNBDParams(*(float(fitted.params_[k]) for k in ("r", "alpha", "s", "beta")))
        else:
            repeat = data.x > 0
            fitted = quietly(lambda: GammaGammaFitter().fit(data.x[repeat], data.value[repeat]))
            params = GammaGammaParams(*(float(fitted.params_[k]) for k in ("p", "q", "v")))
    except Exception as error:  # report, do not hide, a failed peer fit
        print(f"  lifetimes {model} failed: {type(error).__name__}: {error}")
        params = None
    return params, CLOCK[0]() - started


def segone_fit(model: str, data: Sample, *, standard_errors: bool = True) -> Any:
    if model == "BG/NBD":
        return bgnbd.fit(data.x, data.t_x, data.T, standard_errors=standard_errors)
    if model == "Pareto/NBD":
        return paretonbd.fit(data.x, data.t_x, data.T, standard_errors=standard_errors)
    return gammagamma.fit(data.x, data.value, standard_errors=standard_errors)


def total_ll(model: str, params: Any, data: Sample) -> float:
    if params is None:
        return float("nan")
    if model == "BG/NBD":
        return float(bgnbd.log_likelihood(params, data.x, data.t_x, data.T).sum())
    if model == "Pareto/NBD":
        return float(paretonbd.log_likelihood(params, data.x, data.t_x, data.T).sum())
    repeat = data.x > 0
    return float(gammagamma.log_likelihood(params, data.x[repeat], data.value[repeat]).sum())


def machine() -> dict[str, str]:
    cpu = "unknown"
    with open("/proc/cpuinfo") as info:
        for line in info:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as info:
        mem_kb = int(next(line for line in info if line.startswith("MemTotal")).split()[1])
    return {
        "nproc": str(os.cpu_count()),
        "cpu": cpu,
        "ram": f"{mem_kb / 1024**2:.1f} GiB",
        "python": platform.python_version(),
        "load_before": load(),
    }


def load() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def pymc_fit(model: str, data: Sample, python: str) -> tuple[Any, float]:
    """PyMC-Marketing's MAP in a subprocess (``btyd_fit_pymc.py``): segone params (or None) and seconds."""
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "customers.npz"
        np.savez(path, model=model, x=data.x, t_x=data.t_x, T=data.T)
        command = [python, str(PYMC_CHILD), str(path)] + (["--cpu"] if CLOCK[0] is time.process_time else [])
        done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        print(f"  PyMC-Marketing {model} failed: {done.stderr.strip().splitlines()[-1:]}")
        return None, float("nan")
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    kind = BGNBDParams if model == "BG/NBD" else ParetoNBDParams
    return kind(**answer["params"]), float(answer["seconds"])


def peer_row(
    name: str, fit: Callable[[Sample], tuple[Any, float]], model: str, data: Sample, args: argparse.Namespace
) -> dict[str, Any]:
    """A peer's time and log-likelihood on ``data``, or the extrapolation rule's time; then the
    log-likelihoods compared are the peer's and segone's on the subsample (``sub_ll``, ``segone_sub_ll``)."""
    n = data.x.shape[0]
    if n > args.subsample:
        picker = np.random.default_rng(args.seed + 1)
        sub = data.take(np.sort(picker.choice(n, args.subsample, replace=False)))
        sub_params, sub_seconds = fit(sub)
        if sub_seconds * n / args.subsample > args.budget:
            seconds = sub_seconds * n / args.subsample
            sub_ll = total_ll(model, sub_params, sub)
            ours = segone_fit(model, sub, standard_errors=False).log_likelihood
            print(
                f"  {name}: not run at full size; {sub_seconds:.1f}s x {n / args.subsample:.0f} "
                f"= {seconds:.0f}s; on the subsample LL={sub_ll:.3f} (segone {ours:.3f})"
            )
            return {
                "seconds": seconds,
                "ll": float("nan"),
                "extrapolated": True,
                "params": str(sub_params),
                "sub_ll": sub_ll,
                "segone_sub_ll": ours,
            }
    params, seconds = fit(data)
    ll = total_ll(model, params, data)
    print(f"  {name}: {seconds:.3f}s LL={ll:.3f} {params}")
    return {"seconds": seconds, "ll": ll, "extrapolated": False, "params": str(params)}


def warm_up(models: list[str]) -> None:
    """One fit of each model on 2,000 customers by segone and lifetimes: imports and first-call costs."""
    small = simulate(2_000, 1, by_day=False)
    for model in models:
        segone_fit(model, small)
        lifetimes_fit(model, small, 1)


def run_row(kind: str, n: int, model: str, args: argparse.Namespace) -> dict[str, Any]:
    seed = args.seed + n
    if kind == "continuous" and model == "Pareto/NBD":
        data = simulate_pareto(n, seed)
    else:
        data = simulate(n, seed, by_day=kind == "day")
    rows = len(np.unique(np.c_[data.x, data.t_x, data.T], axis=0)) if n <= 200_000 else None
    print(f"\n== {kind} {model} {n:,} customers ({rows or 'not counted'} distinct rows), load {load()}")
    row: dict[str, Any] = {"kind": kind, "model": model, "customers": n, "distinct_rows": rows}
    row["load_before"] = load()
    for errors in (False, True):
        fits, seconds = [], []
        for _ in range(args.repeats):
            fit, took = timed(lambda errors=errors: segone_fit(model, data, standard_errors=errors))
            fits.append(fit)
            seconds.append(took)
        key = "se" if errors else "nose"
        row[f"segone_{key}_seconds"] = statistics.median(seconds)
        row[f"segone_{key}_converged"] = all(fit.converged for fit in fits)
    row["segone_ll"] = fits[-1].log_likelihood
    row["segone_params"] = str(fits[-1].params)
    print(
        f"  segone: {row['segone_nose_seconds']:.3f}s (standard errors: {row['segone_se_seconds']:.3f}s) "
        f"LL={row['segone_ll']:.3f} {fits[-1].params} {fits[-1].message}"
    )
    lifetimes = peer_row("lifetimes", lambda d: lifetimes_fit(model, d, args.seed), model, data, args)
    row.update({f"lifetimes_{k}": v for k, v in lifetimes.items()})
    if model == "Gamma-Gamma":
        row["pymc_status"] = "not compared"
    elif not args.pymc_python:
        row["pymc_status"] = "not installed"
    else:
        pymc = peer_row("PyMC-Marketing", lambda d: pymc_fit(model, d, args.pymc_python), model, data, args)
        row.update({f"pymc_{k}": v for k, v in pymc.items()})
        row["pymc_status"] = "extrapolated" if pymc["extrapolated"] else "run"
    row["load_after"] = load()
    return row


def _ll_ok(ours: float, theirs: float) -> bool:
    return bool(np.isnan(theirs) or ours >= theirs - SAME_LL * abs(theirs))


def verdict(row: dict[str, Any]) -> str:
    """Whether the row meets the target: >= 20x lifetimes with an equal or better log-likelihood."""
    if row["lifetimes_extrapolated"]:
        ll = _ll_ok(row["lifetimes_segone_sub_ll"], row["lifetimes_sub_ll"])
    else:
        ll = _ll_ok(row["segone_ll"], row["lifetimes_ll"])
    fast = row["lifetimes_seconds"] / row["segone_nose_seconds"] >= 20.0
    fast_se = row["lifetimes_seconds"] / row["segone_se_seconds"] >= 20.0
    if not ll:
        return "not met (LL)"
    note = " (lifetimes extrapolated; LL on the subsample)" if row["lifetimes_extrapolated"] else ""
    if fast and fast_se:
        return "met" + note
    return ("met without standard errors only" if fast else "not met") + note


def table(results: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| data | model | customers | segone s (SE off / on) | lifetimes s | speed-up (SE off / on) | "
        "PyMC-Marketing MAP s | speed-up | segone LL | lifetimes LL | PyMC LL | load | target |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |",
    ]
    for r in results:
        lt_note = " (extrapolated)" if r["lifetimes_extrapolated"] else ""
        off, on = r["segone_nose_seconds"], r["segone_se_seconds"]
        if r["pymc_status"] in ("run", "extrapolated"):
            note = " (extrapolated)" if r["pymc_extrapolated"] else ""
            pymc = f"{r['pymc_seconds']:.2f}{note}"
            pymc_x = f"{r['pymc_seconds'] / off:.0f}x"
            pymc_ll = f"{r['pymc_ll']:,.3f}"
            if r["pymc_extrapolated"]:
                pymc_ll = f"sub: {r['pymc_sub_ll']:,.3f} (segone {r['pymc_segone_sub_ll']:,.3f})"
        else:
            pymc, pymc_x, pymc_ll = r["pymc_status"], "—", "—"
        lt_ll = f"{r['lifetimes_ll']:,.3f}"
        if r["lifetimes_extrapolated"]:
            lt_ll = f"sub: {r['lifetimes_sub_ll']:,.3f} (segone {r['lifetimes_segone_sub_ll']:,.3f})"
        lines.append(
            f"| {r['kind']} | {r['model']} | {r['customers']:,} | {off:.3f} / {on:.3f} | "
            f"{r['lifetimes_seconds']:.2f}{lt_note} | {r['lifetimes_seconds'] / off:.0f}x / "
            f"{r['lifetimes_seconds'] / on:.0f}x | {pymc} | {pymc_x} | {r['segone_ll']:,.3f} | {lt_ll} | "
            f"{pymc_ll} | {r['load_before']} -> {r['load_after']} | {verdict(r)} |"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="30000,200000,1000000")
    parser.add_argument("--kinds", default="day,continuous")
    parser.add_argument("--models", default="BG/NBD,Pareto/NBD,Gamma-Gamma")
    parser.add_argument("--seed", type=int, default=20261127)
    parser.add_argument("--subsample", type=int, default=100_000)
    parser.add_argument("--budget", type=float, default=900.0, help="seconds allowed per full peer fit")
    parser.add_argument("--repeats", type=int, default=3, help="segone fits per row (median time)")
    parser.add_argument("--pymc-python", help="interpreter of a venv with pymc-marketing installed")
    parser.add_argument(
        "--clock",
        choices=("wall", "cpu"),
        default="wall",
        help="cpu: CPU seconds of the fitting process (all its threads), which a busy machine disturbs less",
    )
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()
    if args.clock == "cpu":
        CLOCK[0] = time.process_time

    info = machine()
    print(f"machine: {info}")
    models = args.models.split(",")
    warm_up(models)
    results = []
    for kind in args.kinds.split(","):
        for n in (int(size) for size in args.sizes.split(",")):
            for model in models:
                results.append(run_row(kind, n, model, args))
                if args.json:  # as it goes: the 1M rows take minutes
                    Path(args.json).write_text(
                        json.dumps({"machine": info, "args": vars(args), "results": results}, indent=2)
                    )
    info["load_after"] = load()
    print()
    print("\n".join(table(results)))
    print(f"\nmachine: {info}")
    if args.json:
        Path(args.json).write_text(
            json.dumps({"machine": info, "args": vars(args), "results": results}, indent=2)
        )


if __name__ == "__main__":
    main()
