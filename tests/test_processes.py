"""Owners of work: alive until killed, a reused process id does not count, elsewhere unknown."""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import replace

from segone import processes


def test_an_owner_is_alive_until_killed_and_its_name_reads_back() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        here = processes.current()
        owner = processes.Owner(here.host, here.namespace, child.pid, _started(child.pid))
        assert owner.alive() is True
        assert processes.parse(str(owner)) == owner
        assert replace(owner, started="1").alive() is False  # the id, given to another process
        child.kill()
        deadline = time.monotonic() + 10
        while owner.alive() and time.monotonic() < deadline:  # the signal takes a moment to land
            time.sleep(0.01)
        assert owner.alive() is False  # killed, not yet reaped: a zombie
        child.wait()
        assert owner.alive() is False
    finally:
        child.kill()
        child.wait()
    assert processes.current().alive() is True
    assert replace(processes.current(), host="elsewhere").alive() is None
    assert processes.parse("part-1") is None


def _started(pid: int) -> str:
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        return stat.read().rsplit(")", 1)[-1].split()[19]
