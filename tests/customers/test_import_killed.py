"""``kill -9`` during ``segone customers import``, at points over the whole run: nothing of the file is
written (the import is one transaction), and importing the file again gives every customer exactly once,
the same as an import never killed."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from sqlalchemy import text

from segone.runtime import Runtime
from tests.conftest import empty_all_tables
from tests.killing import kill_points, segone

CUSTOMERS = 1_200
CITIES = ["Leeds", "York", "Ljubljana", "Kraków", "Porto"]


def _file(path: Path) -> Path:
    pick = random.Random(7)
    lines = ["name,kind,email,identity:crm,identities,city"]
    for i in range(CUSTOMERS):
        kind = "business" if i % 10 == 0 else "person"
        shop = f"shop:{i}" if i % 3 == 0 else ""
        lines.append(f"Customer {i},{kind},c{i}@example.com,C{i:05d},{shop},{pick.choice(CITIES)}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _content(runtime: Runtime) -> dict[str, Any]:
    """What the import wrote, without row ids and times (PostgreSQL numbers a retried run's rows anew)."""
    with runtime.engine.connect() as connection:
        customers = connection.execute(text("SELECT name, kind, attributes FROM customers")).all()
        identities = connection.execute(
            text(
                "SELECT c.name, i.system, i.value FROM customer_identities i "
                "JOIN customers c ON c.id = i.customer_id"
            )
        ).all()
        audit = connection.execute(text("SELECT action, summary FROM audit_log")).all()
    return {
        "customers": sorted((name, kind, repr(attributes)) for name, kind, attributes in customers),
        "identities": sorted(tuple(row) for row in identities),
        "audit": sorted(tuple(row) for row in audit),
    }


def test_a_killed_customer_import_writes_nothing_and_the_next_one_imports_each_row_once(
    runtime: Runtime, tmp_path: Path
) -> None:
    csv = str(_file(tmp_path / "customers.csv"))
    where = {"data_dir": runtime.settings.data_dir, "database_url": runtime.settings.resolved_database_url()}
    whole = segone("customers", "import", csv, **where)
    assert whole.returncode == 0 and whole.statements, whole.stderr
    expected = _content(runtime)
    assert len(expected["customers"]) == CUSTOMERS
    assert len(expected["identities"]) == 2 * CUSTOMERS + CUSTOMERS // 3  # crm and e-mail, some shop

    empty_all_tables(runtime.engine)
    for point in kill_points(whole.statements, range(2)):
        killed = segone("customers", "import", csv, kill_at=point, **where)
        assert killed.killed, killed.stderr
        assert _content(runtime) == {"customers": [], "identities": [], "audit": []}, point

    again = segone("customers", "import", csv, **where)
    assert again.returncode == 0, again.stderr
    assert f"{CUSTOMERS} created" in again.stdout
    assert _content(runtime) == expected

    # Run once more, as an operator unsure whether the last one went through: nothing is added twice.
    once_more = segone("customers", "import", csv, **where)
    assert once_more.returncode == 0, once_more.stderr
    assert "0 created" in once_more.stdout and f"{CUSTOMERS} unchanged" in once_more.stdout
    content = _content(runtime)
    assert content["customers"] == expected["customers"]
    assert content["identities"] == expected["identities"]
