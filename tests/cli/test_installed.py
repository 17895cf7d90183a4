"""The installed ``segone`` script as a real process: commands, errors, and ``segone serve`` serving."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx

from tests.serving import serving

SEGONE = Path(sys.executable).parent / "segone"


def _env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEGONE_")}
    return {**env, "SEGONE_DATA_DIR": str(data_dir)}


def _run(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SEGONE), *args], env=_env(data_dir), capture_output=True, text=True, timeout=120, check=False
    )


def test_the_installed_script_runs_commands_and_fails_cleanly(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    upgraded = _run(data_dir, "db", "upgrade", "--json")
    assert upgraded.returncode == 0, upgraded.stderr
    assert json.loads(upgraded.stdout)["revision"]
    assert (data_dir / "segone.db").exists()
    listed = _run(data_dir, "customers", "list", "--json")
    assert json.loads(listed.stdout)["total"] == 0
    missing = _run(data_dir, "customers", "show", "email:nobody@example.com")
    assert missing.returncode == 2
    assert missing.stderr.strip() == "Error: No customer has the identity 'email:nobody@example.com'."
    assert missing.stdout == ""


def test_segone_serve_serves_the_api(tmp_path: Path) -> None:
    with serving(str(SEGONE), _env(tmp_path / "data")) as base:
        response = httpx.get(f"{base}/openapi.json", timeout=10)
        assert response.status_code == 200
        assert "/api/v1/customers/import" in response.json()["paths"]
        assert (tmp_path / "data" / "segone.db").exists()  # migrations ran first
