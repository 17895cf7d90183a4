"""The wheel a user installs: built from this tree, installed in a fresh virtual environment with nothing
else of the repository in reach, it loads the demo and serves pages, static files, the API and its docs."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import httpx

from segone.demo.users import DEMO_PASSWORD
from segone.version import __version__
from tests.serving import serving

ROOT = Path(__file__).resolve().parents[2]
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _run(command: list[str], *, env: dict[str, str], cwd: Path, timeout: int = 600) -> str:
    done = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def test_the_wheel_installs_in_a_fresh_venv_loads_the_demo_and_serves(tmp_path: Path) -> None:
    # Nothing of the repository's environment may leak in: no PYTHONPATH, no settings, another directory.
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"PYTHONPATH", "VIRTUAL_ENV"} and not key.startswith("SEGONE_")
    }
    env["SEGONE_DATA_DIR"] = str(tmp_path / "data")
    _run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(tmp_path / "dist"), str(ROOT)],
        env=env,
        cwd=tmp_path,
    )
    (wheel,) = (tmp_path / "dist").glob("segone-*.whl")
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", str(venv)], env=env, cwd=tmp_path)
    bin_dir = venv / "bin"
    pip = [str(bin_dir / "python"), "-m", "pip", "install", "--quiet", "-c", str(ROOT / "constraints.txt")]
    _run([*pip, str(wheel)], env=env, cwd=tmp_path, timeout=900)

    where = _run(
        [str(bin_dir / "python"), "-c", "import segone; print(segone.__file__)"], env=env, cwd=tmp_path
    )
    assert Path(where.strip()).is_relative_to(venv)
    segone = str(bin_dir / "segone")
    assert _run([segone, "--version"], env=env, cwd=tmp_path).strip() == f"segone {__version__}"
    _run([segone, "db", "upgrade"], env=env, cwd=tmp_path)
    loaded = json.loads(
        _run([segone, "demo", "--people", "30", "--businesses", "10", "--json"], env=env, cwd=tmp_path)
    )
    assert loaded["loaded"] is True
    assert loaded["customers"] - len(loaded["duplicates"]) == 40  # a duplicate is one more record
    assert loaded["behaviour"]["events"] > 60_000  # the CDNOW history shipped inside the wheel

    with (
        serving(segone, env, cwd=str(tmp_path)) as base,
        httpx.Client(base_url=base, timeout=30, follow_redirects=True) as browser,
    ):
        login = browser.get("/login")
        assert login.status_code == 200
        assert "/static/css/app.css" in login.text
        stylesheet = browser.get("/static/css/app.css")
        assert stylesheet.status_code == 200
        assert stylesheet.headers["content-type"].startswith("text/css")
        # The API reference's viewers come with the install (a dependency), not from a CDN.
        assert "/docs/swagger-ui-bundle.js" in browser.get("/docs").text
        assert "/redoc/redoc.standalone.js" in browser.get("/redoc").text
        for asset in ("/docs/swagger-ui-bundle.js", "/docs/swagger-ui.css", "/redoc/redoc.standalone.js"):
            assert browser.get(asset).status_code == 200, asset
        (token,) = _CSRF.findall(login.text)
        signed_in = browser.post(
            "/login",
            data={"csrf_token": token, "email": "manager@demo.segone.local", "password": DEMO_PASSWORD},
        )
        assert signed_in.status_code == 200  # followed the redirect home
        assert "Sign in" not in signed_in.text
        customers = browser.get("/customers")
        assert customers.status_code == 200
        first = re.search(r'href="/customers/(\d+)"', customers.text)
        assert first is not None, customers.text[:2000]
        sheet = browser.get(f"/customers/{first.group(1)}")
        assert sheet.status_code == 200
        assert "Easel sheet" in sheet.text
