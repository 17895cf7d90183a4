"""Buy-till-you-die models (BG/NBD, MBG/NBD, Pareto/NBD, BG/BB, sBG, Gamma-Gamma) by maximum likelihood.

Pure NumPy/SciPy functions over per-customer arrays in the ``lifetimes`` conventions (``x`` repeat purchases,
``t_x`` recency, ``T`` age, ``monetary_value`` mean repeat-purchase value)::

    from segone.behaviour.btyd import bgnbd, gammagamma

    fitted = bgnbd.fit(x, t_x, T)                       # FitResult[BGNBDParams]
    alive = bgnbd.p_alive(fitted.params, x, t_x, T)
    next_year = bgnbd.expected_purchases(fitted.params, 52.0, x, t_x, T)
    spend = gammagamma.fit(x, monetary_value)
    value = gammagamma.expected_value(spend.params, x, monetary_value)
    clv = bgnbd.clv(fitted.params, x, t_x, T, value, periods=52, discount_rate=0.0019)

``paretonbd`` has the same functions plus ``dert`` (discounted expected residual transactions); ``mbgnbd``
(the BG/NBD where customers may also drop out at the first purchase) has the same functions but ``clv``.
``bgbb`` is the discrete-time model: ``x`` repeat transactions in ``n`` opportunities, the last at ``t_x``.
``sbg`` is for contracts: a cohort's survivors per period, survival, retention and DERL. BG/NBD and
Pareto/NBD have ``probability_of_purchases`` (the distribution of future purchases, per customer and count)
and its ``_new`` form for a customer just acquired. A ``FitResult`` carries the ``covariance`` of the
parameters (inverse observed information) and their ``standard_errors``; ``predictions.predict`` and
``predictions.intervals`` give per-customer predictions and parametric-bootstrap intervals on them.
"""

from segone.behaviour.btyd import bgbb, bgnbd, gammagamma, mbgnbd, paretonbd, predictions, sbg
from segone.behaviour.btyd.bgbb import BGBBParams
from segone.behaviour.btyd.bgnbd import BGNBDParams
from segone.behaviour.btyd.fitting import FitResult
from segone.behaviour.btyd.gammagamma import GammaGammaParams
from segone.behaviour.btyd.mbgnbd import MBGNBDParams
from segone.behaviour.btyd.paretonbd import ParetoNBDParams
from segone.behaviour.btyd.sbg import SBGParams

__all__ = [
    "BGBBParams",
    "BGNBDParams",
    "FitResult",
    "GammaGammaParams",
    "MBGNBDParams",
    "ParetoNBDParams",
    "SBGParams",
    "bgbb",
    "bgnbd",
    "gammagamma",
    "mbgnbd",
    "paretonbd",
    "predictions",
    "sbg",
]
