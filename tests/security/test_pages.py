"""Every page, with hostile text in everything a user can set: no markup of theirs reaches the browser.

The pages are read from the application's routes and requested as an administrator (who sees every page),
so a page added later is checked without a line here.
"""

from __future__ import annotations

from segone.server import create_app
from segone.web.render import TEMPLATES_DIR, env
from tests.conftest import LiveServer
from tests.security.hostile import MARKUP, concrete, get_routes, seed
from tests.web.conftest import signed_in

ESCAPED = "&lt;script&gt;"


def test_every_template_is_autoescaped() -> None:
    names = [
        path.relative_to(TEMPLATES_DIR).as_posix() for path in TEMPLATES_DIR.rglob("*") if path.is_file()
    ]
    assert names
    assert [name for name in names if not env.autoescape(name)] == []


def test_no_page_shows_user_text_as_markup(live_server: LiveServer) -> None:
    seeded = seed(live_server.runtime)
    pages = [r for r in get_routes(create_app(runtime=live_server.runtime)) if not r.is_api]
    problems: list[str] = []
    shown_escaped = 0
    with signed_in(live_server, seeded.admin) as client:
        for route in pages:
            for path in concrete(route.path, seeded.ids):
                response = client.get(path)
                if response.status_code >= 500:
                    problems.append(f"GET {path}: {response.status_code}")
                if not response.headers.get("content-type", "").startswith("text/html"):
                    continue
                problems += [
                    f"GET {path} shows {marker!r} as it is" for marker in MARKUP if marker in response.text
                ]
                shown_escaped += ESCAPED in response.text
    assert not problems, "\n".join(problems)
    # The seed reaches the pages: most of them show some of it, escaped.
    assert shown_escaped >= 20, shown_escaped
