"""PyMC-Marketing's maximum-a-posteriori fit, run by ``btyd_fit.py`` in the venv where PyMC-Marketing is.

    .venv-pymc/bin/python benchmarks/btyd_fit_pymc.py customers.npz

Not for direct use: ``btyd_fit.py --pymc-python ...`` writes ``customers.npz`` (``model`` "BG/NBD" or
"Pareto/NBD", ``x``, ``t_x``, ``T``) and reads the one JSON line this prints: the parameters and the
seconds of the ``fit`` call alone (CPU seconds with ``--cpu``). It imports nothing from segone (that venv
has only PyMC-Marketing).

Priors are flat (``HalfFlat`` on every parameter) and ``pymc.find_MAP`` optimises the log-density without
the log-transform's Jacobian, so the MAP is the maximum-likelihood estimate and its log-likelihood is
comparable with the other fits'. Before the timed fit, one fit on 1,000 of the customers compiles
PyTensor's functions (the C modules are cached on disk), as lifetimes and segone are warmed up too.
"""

from __future__ import annotations

import json
import sys
import time
import warnings

import numpy as np
import pandas as pd  # type: ignore[import-untyped]


def build(model: str, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> object:
    from pymc_extras.prior import Prior  # type: ignore[import-not-found]
    from pymc_marketing.clv import BetaGeoModel, ParetoNBDModel  # type: ignore[import-not-found]

    data = pd.DataFrame({"customer_id": np.arange(x.shape[0]), "frequency": x, "recency": t_x, "T": T})
    names = ("r", "alpha", "a", "b") if model == "BG/NBD" else ("r", "alpha", "s", "beta")
    config = {name: Prior("HalfFlat") for name in names}
    kind = BetaGeoModel if model == "BG/NBD" else ParetoNBDModel
    return kind(data=data, model_config=config)


def main() -> None:
    loaded = np.load(sys.argv[1])
    model = str(loaded["model"])
    x, t_x, T = loaded["x"], loaded["t_x"], loaded["T"]
    names = ("r", "alpha", "a", "b") if model == "BG/NBD" else ("r", "alpha", "s", "beta")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        build(model, x[:1000], t_x[:1000], T[:1000]).fit(method="map", progressbar=False)  # type: ignore[attr-defined]
        fitted = build(model, x, t_x, T)
        clock = time.process_time if "--cpu" in sys.argv else time.perf_counter
        started = clock()
        fitted.fit(method="map", progressbar=False)  # type: ignore[attr-defined]
        seconds = clock() - started
    result = fitted.fit_result  # type: ignore[attr-defined]
    params = {name: float(np.asarray(result[name]).mean()) for name in names}
    print(json.dumps({"seconds": seconds, "params": params}))


if __name__ == "__main__":
    main()
