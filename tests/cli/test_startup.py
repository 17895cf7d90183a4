"""The CLI starts without the heavy libraries: only the commands that need them import them.

``--help`` and ``--version`` load neither the store's libraries nor the analytics; a command loads its own
module and what it uses, and no more (no Alembic to check the schema, no analytics to read the store).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ANALYTICS = ("scipy", "ibis", "pyarrow", "pandas")
STORE = ("sqlalchemy", "alembic", "rich", "pydantic")
HEAVY = STORE + ANALYTICS


def _loaded_after(code: str, env: dict[str, str] | None = None) -> list[str]:
    probe = f"{code}\nimport json, sys\nprint(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, env=env)
    loaded: list[str] = json.loads(done.stdout.strip().splitlines()[-1])
    return loaded


def _loaded_by_segone(*args: str, env: dict[str, str] | None = None) -> list[str]:
    """What ``segone ARGS`` loads, run as the installed script runs it (it exits: the probe catches that)."""
    run = (
        f"import sys\nsys.argv = {['segone', *args]!r}\n"
        "from segone.cli.main import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass"
    )
    return _loaded_after(run, env)


def test_importing_the_cli_loads_no_heavy_library() -> None:
    assert _loaded_after("import segone.cli.main") == []


def test_help_and_version_load_no_heavy_library() -> None:
    assert _loaded_by_segone("--help") == []
    assert _loaded_by_segone("--version") == []


def test_a_command_loads_the_store_but_neither_alembic_nor_the_analytics(tmp_path: Path) -> None:
    env = {**os.environ, "SEGONE_DATA_DIR": str(tmp_path), "SEGONE_DATABASE_URL": ""}
    assert set(_loaded_by_segone("db", "current", env=env)) == {"sqlalchemy", "rich", "pydantic"}


def test_the_analytics_load_when_a_command_needs_them() -> None:
    # The probes above can only fail if these modules really are heavy: the refresh does load them.
    assert set(_loaded_after("import segone.behaviour.refresh")) >= set(ANALYTICS)
