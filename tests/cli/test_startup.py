"""The CLI starts without the heavy libraries: only the commands that need them import them."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("scipy", "ibis", "pyarrow", "pandas")


def _loaded_after(statement: str) -> list[str]:
    probe = f"import json, sys; {statement}; print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    loaded: list[str] = json.loads(done.stdout.strip().splitlines()[-1])
    return loaded


def test_importing_the_cli_loads_no_heavy_library() -> None:
    assert _loaded_after("import segone.cli.main") == []


def test_the_analytics_load_when_a_command_needs_them() -> None:
    # The probe above can only fail if these modules really are heavy: the refresh does load them.
    assert set(_loaded_after("import segone.behaviour.refresh")) == set(HEAVY)
