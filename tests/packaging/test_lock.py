"""The lock (constraints.txt): what is installed is what it pins, and a stale lock fails the check."""

from __future__ import annotations

import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]


def _pins() -> list[Requirement]:
    lines = (ROOT / "constraints.txt").read_text().splitlines()
    return [Requirement(line) for line in lines if line and not line.startswith((" ", "#"))]


def test_every_installed_package_is_at_its_locked_version() -> None:
    pins = [pin for pin in _pins() if pin.marker is None or pin.marker.evaluate()]
    assert len(pins) > 80
    wrong = {}
    for pin in pins:
        try:
            installed = metadata.version(pin.name)
        except metadata.PackageNotFoundError:
            continue  # an optional extra this environment does not install (the lock covers them all)
        if not pin.specifier.contains(installed, prereleases=True):
            wrong[pin.name] = (installed, str(pin.specifier))
    assert wrong == {}
    for core in ("sqlalchemy", "fastapi", "ibis-framework", "pytest", "uv"):
        assert any(pin.name == core for pin in pins), core


def _check(root: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, str(ROOT / "tools" / "lock.py"), "--check", "--root", str(root)]
    return subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)


def test_the_check_passes_on_the_lock_and_fails_when_pyproject_asks_for_more(tmp_path: Path) -> None:
    for name in ("pyproject.toml", "constraints.txt", "README.md"):
        shutil.copyfile(ROOT / name, tmp_path / name)
    current = _check(tmp_path)
    assert current.returncode == 0, current.stderr
    assert "matches pyproject.toml" in current.stdout

    pyproject = tmp_path / "pyproject.toml"
    text = pyproject.read_text()
    assert '  "uvicorn>=0.30",\n' in text
    pyproject.write_text(text.replace('  "uvicorn>=0.30",\n', '  "uvicorn>=0.30",\n  "tabulate>=0.9",\n'))
    stale = _check(tmp_path)
    assert stale.returncode == 1
    assert "+tabulate==" in stale.stderr
    assert "constraints.txt is stale" in stale.stderr
    assert (tmp_path / "constraints.txt").read_text() == (ROOT / "constraints.txt").read_text()
