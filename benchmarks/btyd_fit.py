"""Buy-till-you-die fits at scale: segone vs lifetimes 0.11.3 on the same synthetic customers.

    .venv/bin/python benchmarks/btyd_fit.py [--customers 1000000] [--seed 20261127] [--subsample 100000]
        [--budget 900] [--json results.json]

Generates ``--customers`` customers from the BG/NBD process with the CDNOW estimates of Fader, Hardie & Lee
(2005) (r=0.243, alpha=4.414, a=0.793, b=2.426; time in weeks, recorded to the day), acquired uniformly over
12 weeks and observed to the end of week 39, with spend per transaction from the Gamma-Gamma model with the
Fader & Hardie (2013) estimates (p=6.25, q=3.74, gamma=15.44). Then, for BG/NBD, Pareto/NBD and Gamma-Gamma:

1. segone on all customers;
2. lifetimes and segone on a seeded subsample of ``--subsample`` customers;
3. lifetimes on all customers, unless 10x its subsample time exceeds ``--budget`` seconds; then the
   full-size lifetimes time is reported as that extrapolation, and labelled so.

Log-likelihoods are all computed with segone's likelihood functions on the data each fit saw, so they are
comparable (the tests check that they agree with lifetimes' own on CDNOW). lifetimes is called as documented:
``BetaGeoFitter().fit``, ``ParetoNBDFitter().fit`` (its default Nelder-Mead, seeded) and
``GammaGammaFitter().fit`` on the repeat customers.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from segone.behaviour.btyd import bgnbd, gammagamma, paretonbd
from segone.behaviour.btyd.bgnbd import BGNBDParams
from segone.behaviour.btyd.gammagamma import GammaGammaParams
from segone.behaviour.btyd.paretonbd import ParetoNBDParams

TRUE_BGNBD = BGNBDParams(r=0.243, alpha=4.414, a=0.793, b=2.426)
TRUE_GG = GammaGammaParams(p=6.25, q=3.74, gamma=15.44)


@dataclass
class Sample:
    x: np.ndarray
    t_x: np.ndarray
    T: np.ndarray
    value: np.ndarray

    def take(self, rows: np.ndarray) -> Sample:
        return Sample(self.x[rows], self.t_x[rows], self.T[rows], self.value[rows])


def simulate(n: int, seed: int) -> Sample:
    """BG/NBD customers (days -> weeks) with Gamma-Gamma spend; vectorised, seeded."""
    rng = np.random.default_rng(seed)
    first_day = rng.integers(0, 84, n)
    age_days = 273 - first_day
    age = age_days / 7.0
    lam = rng.gamma(TRUE_BGNBD.r, 1.0 / TRUE_BGNBD.alpha, n)
    p = rng.beta(TRUE_BGNBD.a, TRUE_BGNBD.b, n)
    arrivals = rng.poisson(lam * age)  # purchases the Poisson process would make in (0, T]
    lives = rng.geometric(p)  # repeat purchases up to and including the one after which they drop out
    x = np.minimum(arrivals, lives)
    # Time of the x-th of `arrivals` uniform arrival times: T * Beta(x, arrivals - x + 1).
    last = np.zeros(n)
    buyers = x > 0
    last[buyers] = age[buyers] * rng.beta(x[buyers], arrivals[buyers] - x[buyers] + 1)
    recency_days = np.minimum(np.ceil(last * 7.0), age_days)
    nu = rng.gamma(TRUE_GG.q, 1.0 / TRUE_GG.gamma, n)
    value = np.zeros(n)
    value[buyers] = rng.gamma(TRUE_GG.p * x[buyers], 1.0 / nu[buyers]) / x[buyers]
    return Sample(x.astype(np.float64), recency_days / 7.0, age, value)


def timed(call: Callable[[], Any]) -> tuple[Any, float]:
    started = time.perf_counter()
    result = call()
    return result, time.perf_counter() - started


def quietly(call: Callable[[], Any]) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return call()


def lifetimes_fit(model: str, data: Sample, seed: int) -> tuple[Any, float]:
    """Fit with lifetimes; returns segone params (or None on failure) and seconds."""
    from lifetimes import BetaGeoFitter, GammaGammaFitter, ParetoNBDFitter

    np.random.seed(seed)  # ParetoNBDFitter draws its starting point from the global generator
    started = time.perf_counter()
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
    return params, time.perf_counter() - started


def segone_fit(model: str, data: Sample) -> Any:
    if model == "BG/NBD":
        return bgnbd.fit(data.x, data.t_x, data.T)
    if model == "Pareto/NBD":
        return paretonbd.fit(data.x, data.t_x, data.T)
    return gammagamma.fit(data.x, data.value)


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
        "load_before": " ".join(f"{v:.2f}" for v in os.getloadavg()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=20261127)
    parser.add_argument("--subsample", type=int, default=100_000)
    parser.add_argument("--budget", type=float, default=900.0, help="seconds allowed per full lifetimes fit")
    parser.add_argument("--models", default="BG/NBD,Pareto/NBD,Gamma-Gamma")
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()

    info = machine()
    print(f"machine: {info}")
    data, seconds = timed(lambda: simulate(args.customers, args.seed))
    picker = np.random.default_rng(args.seed + 1)
    sub = data.take(np.sort(picker.choice(args.customers, args.subsample, replace=False)))
    print(
        f"simulated {args.customers:,} customers in {seconds:.1f}s: {int((data.x > 0).sum()):,} with repeat "
        f"purchases, {len(np.unique(np.c_[data.x, data.t_x, data.T], axis=0)):,} distinct (x, t_x, T)"
    )
    results = []
    for model in args.models.split(","):
        print(f"\n== {model}")
        full_fit = segone_fit(model, data)
        print(
            f"  segone full: {full_fit.seconds:.3f}s LL={full_fit.log_likelihood:.3f} {full_fit.params} "
            f"({full_fit.message}, {full_fit.n_starts} starts)"
        )
        sub_fit = segone_fit(model, sub)
        print(f"  segone sub:  {sub_fit.seconds:.2f}s LL={sub_fit.log_likelihood:.2f}")
        lt_sub_params, lt_sub_seconds = lifetimes_fit(model, sub, args.seed)
        lt_sub_ll = total_ll(model, lt_sub_params, sub)
        print(f"  lifetimes sub: {lt_sub_seconds:.2f}s LL={lt_sub_ll:.2f} {lt_sub_params}")
        scale = args.customers / args.subsample
        if lt_sub_seconds * scale <= args.budget:
            lt_full_params, lt_full_seconds = lifetimes_fit(model, data, args.seed)
            lt_full_ll, extrapolated = total_ll(model, lt_full_params, data), False
            print(f"  lifetimes full: {lt_full_seconds:.2f}s LL={lt_full_ll:.3f} {lt_full_params}")
            gain = full_fit.log_likelihood - lt_full_ll
            print(f"  segone LL - lifetimes LL: {gain:+.3e} ({gain / abs(lt_full_ll):+.1e} relative)")
        else:
            lt_full_seconds, lt_full_ll, extrapolated = lt_sub_seconds * scale, float("nan"), True
            print(f"  lifetimes full: not run; {lt_sub_seconds:.0f}s x {scale:.0f} = {lt_full_seconds:.0f}s")
        results.append(
            {
                "model": model,
                "segone_full_seconds": full_fit.seconds,
                "segone_full_ll": full_fit.log_likelihood,
                "segone_full_converged": full_fit.converged,
                "segone_params": str(full_fit.params),
                "lifetimes_full_seconds": lt_full_seconds,
                "lifetimes_full_extrapolated": extrapolated,
                "lifetimes_full_ll": lt_full_ll,
                "speedup_full": lt_full_seconds / full_fit.seconds,
                "segone_sub_seconds": sub_fit.seconds,
                "segone_sub_ll": sub_fit.log_likelihood,
                "lifetimes_sub_seconds": lt_sub_seconds,
                "lifetimes_sub_ll": lt_sub_ll,
                "speedup_sub": lt_sub_seconds / sub_fit.seconds,
            }
        )
    info["load_after"] = " ".join(f"{v:.2f}" for v in os.getloadavg())
    print("\n| model | customers | segone s | lifetimes s | speed-up | segone LL | lifetimes LL |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in results:
        note = " (extrapolated)" if r["lifetimes_full_extrapolated"] else ""
        print(
            f"| {r['model']} | {args.customers:,} | {r['segone_full_seconds']:.3f} | "
            f"{r['lifetimes_full_seconds']:.2f}{note} | {r['speedup_full']:.0f}x | "
            f"{r['segone_full_ll']:.3f} | {r['lifetimes_full_ll']:.3f} |"
        )
        print(
            f"| {r['model']} | {args.subsample:,} | {r['segone_sub_seconds']:.3f} | "
            f"{r['lifetimes_sub_seconds']:.2f} | {r['speedup_sub']:.0f}x | {r['segone_sub_ll']:.2f} | "
            f"{r['lifetimes_sub_ll']:.2f} |"
        )
    print(f"\nmachine: {info}")
    if args.json:
        with open(args.json, "w") as out:
            json.dump({"machine": info, "args": vars(args), "results": results}, out, indent=2)


if __name__ == "__main__":
    main()
