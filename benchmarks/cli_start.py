"""How fast the ``segone`` command starts: ``--version``, ``--help`` and ``customers show``, by hyperfine.

    .venv/bin/python benchmarks/cli_start.py [--segone .venv/bin/segone] [--runs 10] [--export-json FILE]

Loads a small demo (``segone db upgrade``, then ``segone demo --people 200 --businesses 50``, which also
imports the CDNOW purchase history) into a temporary SEGONE_DATA_DIR, then runs hyperfine (``--warmup 2``,
no shell) on the three commands against it, the installed script as a user runs it. Prints each command's
mean wall time ± standard deviation against its target, and its mean CPU time (user + system); exits 1 if
a target is missed, 2 if hyperfine is missing.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from common import machine

# Seconds: what the issue asks for (issue 13, "A newcomer's first hour").
TARGETS = {"segone --version": 0.3, "segone --help": 0.3, "segone customers show": 0.6}


def _env(data_dir: Path) -> dict[str, str]:
    """The caller's environment (PYTHONPATH included) with only our data directory as segone's setting."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEGONE_")}
    return {**env, "SEGONE_DATA_DIR": str(data_dir)}


def _segone(segone: Path, env: dict[str, str], *args: str) -> str:
    done = subprocess.run([str(segone), *args], env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.exit(f"segone {' '.join(args)} failed ({done.returncode}):\n{done.stderr}")
    return done.stdout


def load_demo(segone: Path, env: dict[str, str]) -> int:
    """A migrated store with the small demo; the id of a customer to show."""
    _segone(segone, env, "db", "upgrade")
    _segone(segone, env, "demo", "--people", "200", "--businesses", "50")
    first: int = json.loads(_segone(segone, env, "customers", "list", "--limit", "1", "--json"))["items"][0][
        "id"
    ]
    return first


def run_hyperfine(commands: dict[str, list[str]], env: dict[str, str], runs: int, export: Path) -> None:
    arguments = [
        "hyperfine",
        "--warmup",
        "2",
        "--runs",
        str(runs),
        "--shell=none",
        "--export-json",
        str(export),
    ]
    for name, command in commands.items():
        arguments += [f"--command-name={name}", " ".join(command)]
    subprocess.run(arguments, env=env, check=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--segone", type=Path, default=Path(sys.executable).parent / "segone", help="the installed script"
    )
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--export-json", type=Path, default=None, help="keep hyperfine's results here")
    args = parser.parse_args()
    if shutil.which("hyperfine") is None:
        print(
            "hyperfine is not installed: 'sudo apt-get install -y hyperfine' (Debian, Ubuntu), "
            "'brew install hyperfine' or 'cargo install hyperfine'.",
            file=sys.stderr,
        )
        sys.exit(2)
    hyperfine = subprocess.run(["hyperfine", "--version"], capture_output=True, text=True, check=True)
    print(machine())
    print(f"{hyperfine.stdout.strip()}; {args.segone} (PYTHONPATH={os.environ.get('PYTHONPATH', '')})")

    with tempfile.TemporaryDirectory(prefix="segone-cli-start-") as scratch:
        env = _env(Path(scratch) / "data")
        customer = load_demo(args.segone, env)
        segone = str(args.segone)
        commands = {
            "segone --version": [segone, "--version"],
            "segone --help": [segone, "--help"],
            "segone customers show": [segone, "customers", "show", str(customer)],
        }
        export = args.export_json or Path(scratch) / "hyperfine.json"
        run_hyperfine(commands, env, args.runs, export)
        results = {result["command"]: result for result in json.loads(export.read_text())["results"]}

    # CPU time (user + system) as well: on a shared machine the wall time also counts the waits for a CPU.
    print(f"\n{'command':<22} {'mean ± stddev':>19} {'CPU':>8} {'target':>8}")
    missed = []
    for name, target in TARGETS.items():
        result = results[name]
        verdict = "pass" if result["mean"] < target else "MISSED"
        if verdict != "pass":
            missed.append(name)
        mean_sd = f"{result['mean']:.3f} s ± {result['stddev']:.3f} s"
        cpu = result["user"] + result["system"]
        print(f"{name:<22} {mean_sd:>19} {cpu:>6.3f} s {target:>6.1f} s  {verdict}")
    if missed:
        print(f"Missed: {', '.join(missed)}.", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
