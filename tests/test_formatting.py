"""Every number a person reads: thousands separators, and amounts in the configured currency."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from segone import formatting
from segone.settings import Settings


def test_counts_carry_thousands_separators() -> None:
    assert formatting.count(24073) == "24,073"
    assert formatting.count(999) == "999"
    assert formatting.count(1882.0) == "1,882"
    assert formatting.count(None) == "\u2013"
    assert formatting.plural(1, "customer") == "1 customer"
    assert formatting.plural(24073, "customer") == "24,073 customers"
    assert formatting.decimal(9595.04, 1) == "9,595.0"


def test_amounts_carry_the_currency() -> None:
    assert formatting.money(36.09, "USD") == "$36.09"
    assert formatting.money(4378.549999, "USD") == "$4,378.55"
    assert formatting.money(123456.7, "USD") == "$123,457"  # cents are noise from 10,000 up
    assert formatting.money(1234.5, "eur") == "\u20ac1,234.50"
    assert formatting.money(12, "CHF") == "CHF\u00a012.00"  # no symbol of its own: the ISO code
    assert formatting.money(1200, "JPY") == "\u00a51,200"  # no minor unit
    assert formatting.money(-5, "GBP") == "\u2212\u00a35.00"
    assert formatting.money(-0.001, "USD") == "$0.00"
    assert formatting.money(None, "USD") == "\u2013"
    assert formatting.money(40, "USD", whole=True) == "$40"


def test_the_currency_setting_is_an_iso_code(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SEGONE_CURRENCY", raising=False)
    assert Settings().currency == "USD"  # the demo's CDNOW amounts are dollars
    monkeypatch.setenv("SEGONE_CURRENCY", "eur")
    assert Settings().currency == "EUR"
    monkeypatch.setenv("SEGONE_CURRENCY", "euro")
    with pytest.raises(ValidationError):
        Settings()
