"""Every file import of the CLI given malformed files: refused with one ``Error:`` line and exit code 2,
or read as what it is, and never half-written.

Each import gets a good file's header and row, spoilt in every way below; after each attempt every table
holds the rows it held before, and the events dataset has no new file. (The API's imports read through the
same kit: ``tests/customers/test_import_endpoint.py``; the JSON API's bodies: ``tests/api/test_input.py``
and ``tests/api/test_errors.py``.)
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import MetaData, func, select

from segone.accounts.schemas import SYSTEM
from segone.quality import service as quality
from segone.quality.schemas import SurveyCreate
from segone.runtime import Runtime
from tests.cli.conftest import Invoke
from tests.factories import make_customer

GOOD: dict[str, tuple[list[str], str, str]] = {
    # command: (arguments before the file, header, a good row)
    "customers import": ([], "name,email", "Ann,ann@example.com"),
    "facts import": ([], "customer,text,category", "email:kept@example.com,Collects maps,free_time"),
    "offerings import": ([], "key,name,description", "lessons-10,Ten lessons,Guitar"),
    "events import": (
        ["--unknown", "reject"],
        "customer,timestamp,type",
        "email:kept@example.com,2024-05-01,purchase",
    ),
    "surveys import": (["Hostile"], "customer,agreement", "email:kept@example.com,4"),
}


def spoilt(header: str, row: str) -> dict[str, tuple[str, bytes]]:
    """Name -> (file name, bytes): the good file spoilt in one way each."""
    first = row.split(",")[0]
    return {
        "unbalanced quote": ("bad.csv", f'{header}\r\n"{row}\r\n{row}\r\n'.encode()),
        "ragged rows": ("bad.csv", f"{header}\n{row},extra,more\n{first}\n".encode()),
        "NUL byte": ("bad.csv", f"{header}\n{row[:3]}\x00{row[3:]}\n".encode()),
        "UTF-16 without a byte order mark": ("bad.csv", f"{header}\n{row}\n".encode("utf-16-le")),
        "invalid UTF-8 and not Latin-1 either": (
            "bad.csv",
            f"{header}\n".encode() + b"\x81\x8d\x8f\x90\x9d\xff\xfe\n",
        ),
        "binary garbage": ("bad.csv", bytes(range(256)) * 8),
        "truncated Parquet": ("bad.parquet", b"PAR1\x15\x04\x15\x10\x15\x14L\x15\x02\x15\x00\x12\x00\x00"),
        "JSON that is not an object": ("bad.jsonl", b"[1, 2, 3]\n"),
        "deeply nested JSON": ("bad.jsonl", b'{"customer": ' + b"[" * 100_000 + b"]" * 100_000 + b"}\n"),
        "empty": ("bad.csv", b""),
    }


MUST_FAIL = {
    "binary garbage",
    "truncated Parquet",
    "JSON that is not an object",
    "deeply nested JSON",
    "empty",
}
"""What no import can read as data; the others may be read (an encoding guessed, a row reported)."""


def _rows(runtime: Runtime) -> dict[str, int]:
    meta = MetaData()
    meta.reflect(runtime.engine)
    with runtime.engine.connect() as connection:
        return {
            name: int(connection.scalar(select(func.count()).select_from(table)) or 0)
            for name, table in meta.tables.items()
            if name not in ("audit_log", "alembic_version")
        }


@pytest.mark.parametrize("command", sorted(GOOD))
def test_a_spoilt_file_is_refused_whole(segone: Invoke, store: Runtime, tmp_path: Path, command: str) -> None:
    make_customer(store, name="Kept", identities=["email:kept@example.com"])
    with store.session() as db:
        quality.create_survey(db, actor=SYSTEM, data=SurveyCreate(name="Hostile"))
    before = _rows(store)
    events = store.settings.data_dir / "events"
    files_before = set(events.rglob("*")) if events.exists() else set()
    extra, header, row = GOOD[command]
    problems = []
    for kind, (name, data) in spoilt(header, row).items():
        path = tmp_path / name
        path.write_bytes(data)
        result = segone(*command.split(), *extra, str(path))
        if "Traceback" in result.output or result.exit_code not in (0, 2):
            problems.append(f"{kind}: exit {result.exit_code}\n{result.output[-800:]}")
            continue
        if result.exit_code == 2:
            if not result.stderr.startswith("Error: "):
                problems.append(f"{kind}: {result.stderr[:200]!r}")
            if _rows(store) != before:
                problems.append(f"{kind}: refused, but rows were written")
            if (set(events.rglob("*")) if events.exists() else set()) != files_before:
                problems.append(f"{kind}: refused, but the events dataset changed")
        elif kind in MUST_FAIL:
            problems.append(f"{kind}: imported\n{result.output[-400:]}")
        before = _rows(store)
        files_before = set(events.rglob("*")) if events.exists() else set()
    assert not problems, "\n\n".join(problems)
