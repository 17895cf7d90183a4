"""A real ``segone serve`` process on a free port, for tests that talk to it over HTTP."""

from __future__ import annotations

import os
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import httpx


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serving(
    segone: str, env: dict[str, str], *, cwd: str | None = None, options: Sequence[str] = ()
) -> Iterator[str]:
    """Start ``segone serve`` (with more ``options``, e.g. ``--workers 2``) and yield its base URL once it
    answers; stop it afterwards."""
    port = free_port()
    command: Sequence[str] = [segone, "serve", "--host", "127.0.0.1", "--port", str(port), *options]
    # Its log goes to a file, not a pipe nobody reads while it runs: a full pipe would stall the server.
    log = tempfile.TemporaryFile(mode="w+", encoding="utf-8")  # noqa: SIM115 (closed in the finally below)
    server = subprocess.Popen(command, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=log, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        ready = False
        while not ready and time.monotonic() < deadline and server.poll() is None:
            try:
                ready = httpx.get(f"{base}/openapi.json", timeout=2).status_code == 200
            except httpx.TransportError:
                time.sleep(0.2)
        assert server.poll() is None, _read(log)
        assert ready, f"segone serve did not answer on {base} within 60 s"
        yield base
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)
        if os.environ.get("SEGONE_SERVE_LOG"):  # where a benchmark or a debugging session wants it kept
            Path(os.environ["SEGONE_SERVE_LOG"]).write_text(_read(log), encoding="utf-8")
        log.close()


def _read(log: IO[str]) -> str:
    log.seek(0)
    return log.read()
