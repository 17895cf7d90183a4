"""The pages' helpers: addresses that break between their parts, amounts in the configured currency,
counts, relative times."""

from __future__ import annotations

from datetime import UTC, datetime

from segone.web.render import ago, breakable, env


def test_an_address_may_end_a_line_only_between_its_parts() -> None:
    assert breakable("email:megan.clarke@demo.segone.local") == (
        "email:<wbr>megan<wbr>.clarke<wbr>@demo<wbr>.segone<wbr>.local"
    )
    assert breakable("url:https://example.com/a") == "url:<wbr>https://<wbr>example<wbr>.com/<wbr>a"
    assert breakable(".hidden") == ".hidden"  # no break before the first character
    assert breakable("<b>@x") == "&lt;b&gt;<wbr>@x"  # escaped like any text
    ids = env.from_string("{{ ids | map('breakable') | join(' · ') }}").render(ids=["crm:A.1", "<i>"])
    assert ids == "crm:<wbr>A<wbr>.1 · &lt;i&gt;"


def test_relative_times_count_from_today_and_carry_the_day() -> None:
    now = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
    three_weeks = ago(datetime(2026, 11, 15, 14, 0, tzinfo=UTC), now)
    assert three_weeks == (
        '<time datetime="2026-11-15T14:00:00+00:00" title="15 Nov 2026, counted from today">'
        "3 weeks ago</time>"
    )
    assert ">yesterday<" in ago(datetime(2026, 12, 5, 23, 0, tzinfo=UTC), now)
    assert ago(None, now) == "never"


def test_templates_write_amounts_in_the_currency_and_counts_with_separators() -> None:
    template = env.from_string("{{ spent | money }} · {{ n | count }} · {{ plural(n, 'customer') }}")
    assert template.render(spent=4378.549999, n=24073, currency="EUR") == (
        "\u20ac4,378.55 · 24,073 · 24,073 customers"
    )
    assert template.render(spent=36.09, n=1, currency="USD") == "$36.09 · 1 · 1 customer"
