"""A behaviour refresh in a process of its own, held mid-run until the test kills it with SIGKILL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

from segone.settings import Settings

# The child runs a real refresh; when it reaches the model fitting (profiles computed, nothing written
# yet) it says so on stdout and waits there, as a long refresh would, until it is killed.
_CHILD = """
import sys, time
from datetime import date
from segone.accounts.schemas import SYSTEM
from segone.behaviour import refresh
from segone.runtime import Runtime
from segone.settings import Settings

data_dir, database_url, as_of = sys.argv[1:4]
runtime = Runtime(Settings(data_dir=data_dir, database_url=database_url, flush_interval_seconds=0))

def progress(stage, done, total):
    if stage.startswith("Fitting"):
        print("fitting", flush=True)
        time.sleep(600)

refresh.refresh(runtime.sessions, runtime.settings, actor=SYSTEM, as_of=date.fromisoformat(as_of),
                progress=progress)
"""


@contextmanager
def refresh_running_elsewhere(settings: Settings, as_of: date) -> Iterator[subprocess.Popen[str]]:
    """Yield the child once its refresh runs (mid-run); kill it with SIGKILL at the end if still alive."""
    args = [str(settings.data_dir), settings.database_url or "", as_of.isoformat()]
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={k: v for k, v in os.environ.items() if not k.startswith("SEGONE_")},
    )
    try:
        assert child.stdout is not None
        line = child.stdout.readline()
        assert line.strip() == "fitting", child.communicate(timeout=60)[1]
        yield child
    finally:
        if child.poll() is None:
            child.kill()
        child.communicate(timeout=60)


def kill(child: subprocess.Popen[str]) -> None:
    """``kill -9``, and reap it (as a shell would), so it is gone, not a zombie."""
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=60)
    assert child.returncode == -signal.SIGKILL
