"""Buy-till-you-die models: BG/NBD, Pareto/NBD and Gamma-Gamma, fitted by maximum likelihood.

Pure NumPy/SciPy functions over per-customer arrays in the ``lifetimes`` conventions (``x`` repeat purchases,
``t_x`` recency, ``T`` age, ``monetary_value`` mean repeat-purchase value)::

    from segone.behaviour.btyd import bgnbd, gammagamma

    fitted = bgnbd.fit(x, t_x, T)                       # FitResult[BGNBDParams]
    alive = bgnbd.p_alive(fitted.params, x, t_x, T)
    next_year = bgnbd.expected_purchases(fitted.params, 52.0, x, t_x, T)
    spend = gammagamma.fit(x, monetary_value)
    value = gammagamma.expected_value(spend.params, x, monetary_value)
    clv = bgnbd.clv(fitted.params, x, t_x, T, value, periods=52, discount_rate=0.0019)

``paretonbd`` has the same functions plus ``dert`` (discounted expected residual transactions). Both have
``probability_of_purchases`` (the distribution of future purchases, per customer and count) and its
``_new`` form for a customer just acquired. Every ``FitResult`` carries the ``covariance`` of the parameters
(inverse observed information) and their ``standard_errors``; ``predictions.predict`` and
``predictions.intervals`` give per-customer predictions and parametric-bootstrap intervals on them.
"""

from segone.behaviour.btyd import bgnbd, gammagamma, paretonbd, predictions
from segone.behaviour.btyd.bgnbd import BGNBDParams
from segone.behaviour.btyd.fitting import FitResult
from segone.behaviour.btyd.gammagamma import GammaGammaParams
from segone.behaviour.btyd.paretonbd import ParetoNBDParams

__all__ = [
    "BGNBDParams",
    "FitResult",
    "GammaGammaParams",
    "ParetoNBDParams",
    "bgnbd",
    "gammagamma",
    "paretonbd",
    "predictions",
]
