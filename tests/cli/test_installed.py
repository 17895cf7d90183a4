"""The installed ``segone`` script as a real process: commands, errors, and ``segone serve`` serving."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

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


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_segone_serve_serves_the_api(tmp_path: Path) -> None:
    port = _free_port()
    server = subprocess.Popen(
        [str(SEGONE), "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=_env(tmp_path / "data"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        response: httpx.Response | None = None
        while time.monotonic() < deadline and server.poll() is None:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/openapi.json", timeout=2)
                if response.status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        assert server.poll() is None, server.stderr.read() if server.stderr else ""
        assert response is not None and response.status_code == 200
        assert "/api/v1/customers/import" in response.json()["paths"]
        assert (tmp_path / "data" / "segone.db").exists()  # migrations ran first
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)
        if server.stderr:
            server.stderr.close()
