"""Numbers as people read them, the same on every page, in the API's sentences and at the terminal.

Counts carry thousands separators (24,073); amounts carry the configured currency (``SEGONE_CURRENCY``)
and thousands separators ($4,378.55). Everything that shows a number to a person goes through here.
"""

from __future__ import annotations

import math

# Symbols read without ambiguity in an English interface; other currencies show their ISO code.
SYMBOLS = {"USD": "$", "EUR": "\u20ac", "GBP": "\u00a3", "JPY": "\u00a5", "INR": "\u20b9"}
# ISO 4217 currencies without minor units.
WHOLE_UNITS = {"JPY", "KRW", "ISK", "CLP", "VND", "UGX", "PYG", "XAF", "XOF"}
NO_VALUE = "\u2013"


def count(value: int | float | None) -> str:
    """A count with thousands separators: ``24,073``; a dash for none."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return NO_VALUE
    return f"{round(value):,}"


def decimal(value: float | None, places: int = 2) -> str:
    """A measured number with thousands separators and ``places`` decimals: ``1,234.57``."""
    if value is None or math.isnan(value):
        return NO_VALUE
    return f"{value:,.{places}f}"


def money(value: float | None, currency: str, *, whole: bool = False) -> str:
    """An amount in ``currency`` (ISO 4217): ``$36.09``, ``€1,234.50``, ``CHF 12.00``, ``¥1,200``.

    Cents are left out from 10,000 up, where they are noise, and when ``whole`` (an axis's round ticks).
    """
    if value is None or math.isnan(value):
        return NO_VALUE
    code = currency.upper()
    places = 0 if whole or code in WHOLE_UNITS or abs(value) >= 10_000 else 2
    digits = f"{abs(value):,.{places}f}"
    sign = "\u2212" if value < 0 and float(digits.replace(",", "")) != 0 else ""
    symbol = SYMBOLS.get(code)
    return f"{sign}{symbol}{digits}" if symbol else f"{sign}{code}\u00a0{digits}"


def plural(number: int, singular: str, many: str | None = None) -> str:
    """``1 customer``, ``24,073 customers``."""
    return f"{count(number)} {singular if number == 1 else (many or singular + 's')}"
