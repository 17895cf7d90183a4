"""Discounting expected purchases into a customer lifetime value.

``discounted_purchases`` is the CLV formula used for the BG/NBD (and available for any model): with
``E(t)`` a customer's expected repeat purchases in the next ``t`` time units, a horizon of ``K`` periods of
``period_length`` units and a discount rate ``d`` per period,

    CLV = value * sum_{k=1..K} (E(k * period_length) - E((k - 1) * period_length)) / (1 + d)^k

i.e. the purchases expected in each period, valued at the expected value per purchase (Gamma-Gamma) and
discounted to today at the end of the period. The Pareto/NBD also has the closed-form "discounted expected
residual transactions" of Fader, Hardie & Lee (2005), see ``paretonbd.dert``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from segone.behaviour.btyd._special import FloatArray


def discounted_purchases(
    expected: Callable[[float], FloatArray], *, periods: int, discount_rate: float, period_length: float = 1.0
) -> FloatArray:
    """``sum_{k=1..periods} (E(k L) - E((k-1) L)) / (1 + discount_rate)^k`` with ``L = period_length``."""
    if periods < 1:
        raise ValueError("periods must be at least 1")
    if discount_rate <= -1.0:
        raise ValueError("discount_rate must be greater than -1")
    if period_length <= 0:
        raise ValueError("period_length must be positive")
    previous = expected(0.0)
    total = np.zeros_like(previous)
    for k in range(1, periods + 1):
        current = expected(k * period_length)
        total += (current - previous) / (1.0 + discount_rate) ** k
        previous = current
    return total
