"""Every CSV export, with text that a spreadsheet would run as a formula: every such cell is escaped.

The exports are found in the application: every GET route, web and API, is requested as an administrator
(in CSV where it takes a ``format``), and every answer that is ``text/csv`` is read cell by cell. An export
added later is checked by construction; only the export kit writes CSV (the last test), so whatever it
exports goes through the one formula guard.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import httpx

import segone
from segone.exporting.cells import TRIGGERS
from segone.server import create_app
from tests.conftest import LiveServer
from tests.factories import make_customer
from tests.security.hostile import FORMULAS, concrete, get_routes, seed
from tests.web.conftest import signed_in

NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
"""A cell that is a number typed as a number (an amount, a count): a spreadsheet reads it as that number."""
CSV_WRITERS_ALLOWED = {
    "exporting/csv_writer.py": "the one writer, with the formula guard",
    "demo/offerings.py": "the demo's own catalogue, read straight back by the offerings import",
}


def _csv_answers(client: httpx.Client, paths: list[tuple[str, bool]]) -> dict[str, str]:
    found = {}
    for path, takes_format in paths:
        response = client.get(path, params={"format": "csv"} if takes_format else None)
        assert response.status_code < 500, f"GET {path}: {response.status_code}"
        if response.headers.get("content-type", "").startswith("text/csv"):
            found[path] = response.text
    return found


def test_no_csv_export_holds_a_formula(live_server: LiveServer) -> None:
    seeded = seed(live_server.runtime)
    # Genuine numbers stay numbers: a negative balance typed as a number is written as it is.
    make_customer(live_server.runtime, name="Negative Balance", attributes={"balance": -42, "plan": "-gold"})
    routes = get_routes(create_app(runtime=live_server.runtime))
    web = [
        (path, "format" in r.query) for r in routes if not r.is_api for path in concrete(r.path, seeded.ids)
    ]
    api = [(path, "format" in r.query) for r in routes if r.is_api for path in concrete(r.path, seeded.ids)]
    with signed_in(live_server, seeded.admin) as client:
        exports = _csv_answers(client, web)
    with httpx.Client(
        base_url=live_server.url, headers={"Authorization": f"Bearer {seeded.admin.token}"}, timeout=60
    ) as client:
        exports |= _csv_answers(client, api)
    # The exports known today are found (if none were, nothing below would be checked).
    for known in ("/exports/customers", "/api/v1/audit/export", "/admin/audit/export", "/cards/export"):
        assert any(path.startswith(known) for path in exports), (known, sorted(exports))
    assert len(exports) >= 14, sorted(exports)
    problems = []
    cells: list[str] = []
    for path, text in exports.items():
        for row in csv.reader(io.StringIO(text, newline="")):
            for cell in row:
                cells.append(cell)
                if cell[:1] in TRIGGERS and not NUMBER.fullmatch(cell):
                    problems.append(f"{path}: {cell!r}")
    assert not problems, "\n".join(problems[:50])
    for formula in FORMULAS:  # each reached some export, escaped
        assert any(cell.startswith("'" + formula) for cell in cells), formula
    assert "-42" in cells and "'-gold" in cells


def test_only_the_export_kit_writes_csv() -> None:
    root = Path(segone.__file__).parent
    writers = {
        path.relative_to(root).as_posix()
        for path in root.rglob("*.py")
        if re.search(r"csv\.(writer|DictWriter)\(", path.read_text(encoding="utf-8"))
    }
    assert writers <= CSV_WRITERS_ALLOWED.keys(), sorted(writers - CSV_WRITERS_ALLOWED.keys())
