"""The README's tour works as written: every line of its command-line part runs, as a real process of the
installed ``segone``, on a store the demo loaded, and every file it names is in the repository."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SEGONE = Path(sys.executable).parent / "segone"
WRITTEN = ".venv/bin/segone"  # how the README calls the script `make run` installs


def tour() -> list[list[str]]:
    """The command lines of the block after "On the command line", split as the shell would."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    after = readme.split("**On the command line**", 1)[1]
    found = re.search(r"```sh\n(.*?)```", after, re.DOTALL)
    assert found is not None, "the README's tour has no command-line block"
    return [shlex.split(line, comments=True) for line in found.group(1).splitlines() if line.strip()]


def _run(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEGONE_")}
    return subprocess.run(
        [str(SEGONE), *args],
        env={**env, "SEGONE_DATA_DIR": str(data_dir)},
        cwd=ROOT,  # where `make run` is run, so the tour's relative paths are the repository's
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_every_file_the_tour_names_is_in_the_repository() -> None:
    lines = tour()
    assert len(lines) >= 8 and all(line[0] == WRITTEN for line in lines)
    files = [
        word for line in lines for word in line[1:] if re.search(r"\.[a-z]{2,4}$", word) and "@" not in word
    ]
    assert files == ["examples/customers.csv"]
    assert all((ROOT / name).is_file() for name in files)


def test_every_line_of_the_tour_runs_on_the_demo(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    # A smaller demo than `make run` loads; it holds every customer the tour names (42, cdnow:00012,
    # cdnow:00042) and the whole purchase history.
    loaded = _run(data_dir, "demo", "--people", "60", "--businesses", "12")
    assert loaded.returncode == 0, loaded.stderr
    outputs = {}
    for line in tour():
        done = _run(data_dir, *line[1:])
        assert done.returncode == 0, f"{shlex.join(line)} exited {done.returncode}: {done.stderr}"
        outputs[line[1] + " " + line[2]] = done.stdout
    shown = json.loads(outputs["customers show"])
    assert "cdnow:00042" in shown["customer"]["identities"] and not shown["customer"]["name"].startswith(
        "Customer "
    )
    assert "4 rows" in outputs["customers import"] and "dry run" in outputs["customers import"].lower()
    assert "It depends" in outputs["offers advise"] or "fits" in outputs["offers advise"]
    assert "About them:" in outputs["messages draft"]
