"""The formatting helpers the pages share."""

from __future__ import annotations

from segone.web.render import breakable, env


def test_an_address_may_end_a_line_only_between_its_parts() -> None:
    assert breakable("email:megan.clarke@demo.segone.local") == (
        "email:<wbr>megan<wbr>.clarke<wbr>@demo<wbr>.segone<wbr>.local"
    )
    assert breakable("url:https://example.com/a") == "url:<wbr>https://<wbr>example<wbr>.com/<wbr>a"
    assert breakable(".hidden") == ".hidden"  # no break before the first character
    assert breakable("<b>@x") == "&lt;b&gt;<wbr>@x"  # escaped like any text
    ids = env.from_string("{{ ids | map('breakable') | join(' · ') }}").render(ids=["crm:A.1", "<i>"])
    assert ids == "crm:<wbr>A<wbr>.1 · &lt;i&gt;"
