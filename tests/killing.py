"""``kill -9`` at a chosen point of a real ``segone`` command: before its Nth SQL statement.

The command runs in a process of its own, exactly as an operator runs it; a listener on every engine counts
the statements the command sends and, before the chosen one, the process sends itself SIGKILL: no handler,
no ``finally``, no rollback by Python, as when the machine kills it. A run with no kill point says how many
statements a whole run sends, so the tests can pick points over all of it.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

_CHILD = """
import atexit, os, signal, sys
from sqlalchemy import event
from sqlalchemy.engine import Engine

kill_at, count_file = int(sys.argv[1]), sys.argv[2]
kill_on = os.environ.get("KILL_ON_STATEMENT", "")
kill_after = os.environ.get("KILL_AFTER_STATEMENT", "")
seen = 0
passed = False

@event.listens_for(Engine, "before_cursor_execute")
def _count(_connection, _cursor, statement, *_):
    global seen, passed
    seen += 1
    if seen == kill_at or (kill_on and kill_on in statement) or passed:
        os.kill(os.getpid(), signal.SIGKILL)
    passed = bool(kill_after) and kill_after in statement

def _said():
    with open(count_file, "w") as out:
        out.write(str(seen))

atexit.register(_said)
sys.argv = ["segone", *sys.argv[3:]]
from segone.cli.main import main
main()
"""


@dataclass(frozen=True)
class Run:
    returncode: int
    statements: int | None  # None when killed: it never got to say
    stdout: str
    stderr: str

    @property
    def killed(self) -> bool:
        return self.returncode == -signal.SIGKILL


def segone(
    *args: str,
    data_dir: Path,
    database_url: str = "",
    kill_at: int = 0,
    extra_env: dict[str, str] | None = None,
    kill_on: str = "",
    kill_after: str = "",
) -> Run:
    """Run ``segone ARGS`` in a process of its own over the store; killed before statement ``kill_at``
    (0: never), or before the first statement whose SQL holds ``kill_on``, or before the statement that
    follows the first holding ``kill_after`` (points of the run named by what it does, where the count of
    statements before them varies with the store)."""
    count_file = data_dir.parent / f".statements-{os.getpid()}"
    count_file.unlink(missing_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEGONE_")}
    env.update(
        SEGONE_DATA_DIR=str(data_dir),
        SEGONE_DATABASE_URL=database_url,
        SEGONE_CONSENT_DEFAULT=os.environ.get("SEGONE_CONSENT_DEFAULT", "granted"),
        **(extra_env or {}),
    )
    if kill_on:
        env["KILL_ON_STATEMENT"] = kill_on
    if kill_after:
        env["KILL_AFTER_STATEMENT"] = kill_after
    child = subprocess.run(
        [sys.executable, "-c", _CHILD, str(kill_at), str(count_file), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    statements = int(count_file.read_text()) if count_file.exists() else None
    count_file.unlink(missing_ok=True)
    return Run(child.returncode, statements, child.stdout, child.stderr)


def kill_points(statements: int, seeds: range) -> list[int]:
    """One point per seed, anywhere in a run of ``statements`` statements (the first to the last)."""
    return [random.Random(seed).randint(1, statements) for seed in seeds]
