"""The suite needs nothing beside the checkout: every file a test reads is in the repository.

Two checks, each shown to fail on the regressions it is for:

1. **A scan of the code** (``src/``, ``tests/``, ``benchmarks/``, ``tools/``, ``.ci/``, the Makefile and
   pyproject.toml; this file aside, as it spells the regressions out). In Python files every path built
   from ``__file__`` or the working directory through ``.parent``, ``.parents[n]``, ``os.path.dirname``,
   ``/`` and ``os.path.join`` (also through names such as ``ROOT = Path(__file__).parents[2]``) is
   evaluated and must stay inside the checkout; no string has a ``..`` component (outside such a join),
   names ``shared/data``, a home or mount folder (``/work/``, ``/home/``, ``/root/``, ``~/``, ``$HOME`` …),
   and nothing asks for the home folder (``Path.home()``, ``expanduser``, the ``HOME`` variable). In the
   Makefile and scripts each ``..`` path is resolved (``$(dirname "$0")`` is the script's folder) and must
   stay inside. No symlink in those folders points out. ``test_the_scan_catches`` feeds the scan the
   regressions it must report and the idioms it must let through.
2. **The tests that read data, watched** (the CDNOW logs and summaries, Lifetimes' copies): they run again in
   a subprocess whose ``sys.addaudithook`` records every ``open``, ``os.listdir``, ``os.scandir`` and
   ``glob.glob``. Every path, symlinks resolved, must be a file of the checkout tracked by git (or Python's
   caches and install metadata), in the scratch folder made for the run (``TMPDIR`` and ``--basetemp``
   point there), in the Python installation (the venv, the base interpreter and the folders its ``site``
   puts on the import path, such as an editable install's source), or the operating system's (``/dev``,
   ``/proc``, ``/sys``, ``/etc``, time zones). A canary test in the same run opens the old
   ``<checkout>/../shared/data/cdnow`` summary and must be exactly what is reported, so a hook that saw
   nothing cannot pass; the data files the tests are known to read must be among the opened ones.
   What C extensions open themselves (DuckDB, Arrow) never reaches an audit hook: the scan covers the paths
   they are given.
"""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
from pathlib import Path, PurePosixPath

import pytest

from tests.btyd_data import DONATIONS, SURVIVORS
from tests.cdnow import SAMPLE_LOG, SUMMARY, WITH_TRANSACTIONS

ROOT = Path(__file__).resolve().parents[1]
THIS = Path(__file__).resolve()
SCANNED_DIRS = ("src", "tests", "benchmarks", "tools", ".ci")
SCANNED_FILES = ("Makefile", "pyproject.toml")
TEXT_SUFFIXES = {".py", ".sh", ".toml", ".cfg", ".ini", ".mk"}

# A home, mount or project-share folder named in a string, or the home folder by variable.
OUTSIDE_FOLDER = re.compile(
    r"(?:^|[\s'\"=:(,])(/(?:work|home|root|Users|mnt|media|srv|opt|nfs|scratch|shared|data)/|~/)"
    r"|\$HOME\b|\$\{HOME\}|\$\(HOME\)"
)
PARENT_COMPONENT = re.compile(r"(?:^|[\s'\"=:(,/])\.\.(?=/|$|[\s'\"),;])")
SHARED_DATA = re.compile(r"(?:^|[^\w.-])shared/data\b")
HOME_CALLS = {"Path.home", "pathlib.Path.home", "os.path.expanduser", "expanduser"}
WRAPPERS = {"Path", "pathlib.Path", "PurePath", "PurePosixPath", "str", "os.fspath"}
SAME_PLACE = {"os.path.abspath", "os.path.realpath", "os.path.normpath"}
SCRIPT_DIR = re.compile(r"\$\(dirname \"?\$(?:0|\{BASH_SOURCE\[0\]\})\"?\)")


def inside(path: PurePosixPath | Path, root: Path = ROOT) -> bool:
    return PurePosixPath(os.path.normpath(path)).is_relative_to(PurePosixPath(root))


def _dotted(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return ""


class _PathScan(ast.NodeVisitor):
    """Evaluates the paths a Python file builds from its own location and checks its strings."""

    def __init__(self, file: Path) -> None:
        self.file = file
        self.bound: dict[str, PurePosixPath] = {}
        self.joined: set[int] = set()  # string parts of an evaluated join: judged by where the join lands
        self.problems: dict[int, str] = {}

    def value(self, node: ast.expr) -> PurePosixPath | None:
        if isinstance(node, ast.Name):
            return PurePosixPath(self.file) if node.id == "__file__" else self.bound.get(node.id)
        if isinstance(node, ast.Attribute) and node.attr == "parent":
            inner = self.value(node.value)
            return inner.parent if inner is not None else None
        if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Attribute):
            if node.value.attr == "parents" and isinstance(node.slice, ast.Constant):
                inner = self.value(node.value.value)
                if inner is None or not isinstance(node.slice.value, int) or node.slice.value < 0:
                    return None
                ups = node.slice.value + 1
                return PurePosixPath("/") if ups >= len(inner.parts) else inner.parents[ups - 1]
            return None
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
            left = self.value(node.left)
            return self._join(left, [node.right]) if left is not None else None
        if isinstance(node, ast.Call):
            name = _dotted(node.func)
            if name in {"Path.cwd", "pathlib.Path.cwd", "os.getcwd"}:
                return PurePosixPath(ROOT)  # `make test` runs pytest from the root
            if isinstance(node.func, ast.Attribute) and node.func.attr in {"resolve", "absolute"}:
                return self.value(node.func.value)
            if node.args and (name in WRAPPERS or name in SAME_PLACE) and len(node.args) == 1:
                return self.value(node.args[0])
            if node.args and name == "os.path.dirname":
                inner = self.value(node.args[0])
                return inner.parent if inner is not None else None
            if node.args and name == "os.path.join":
                first = self.value(node.args[0])
                return self._join(first, node.args[1:]) if first is not None else None
        return None

    def _join(self, base: PurePosixPath, parts: list[ast.expr]) -> PurePosixPath:
        for part in parts:
            if isinstance(part, ast.Constant) and isinstance(part.value, str):
                self.joined.add(id(part))
                base = PurePosixPath(os.path.normpath(base / part.value))
            else:
                base = base / "unknown"  # a name only known at run time goes down, never up
        return base

    def _report(self, node: ast.AST, message: str) -> None:
        self.problems.setdefault(getattr(node, "lineno", 0), message)

    def visit_Assign(self, node: ast.Assign) -> None:
        self.generic_visit(node)
        value = self.value(node.value)
        for target in node.targets:
            if isinstance(target, ast.Name) and value is not None:
                self.bound[target.id] = value

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        self.generic_visit(node)
        if node.value is not None and isinstance(node.target, ast.Name):
            value = self.value(node.value)
            if value is not None:
                self.bound[node.target.id] = value

    def generic_visit(self, node: ast.AST) -> None:
        if isinstance(node, ast.expr) and not isinstance(node, ast.Constant):
            value = self.value(node)
            if value is not None and not inside(value):
                self._report(node, f"{ast.unparse(node)} is {value}, outside the checkout")
        if isinstance(node, ast.Call) and (
            _dotted(node.func) in HOME_CALLS or _dotted(node.func).endswith(".expanduser")
        ):
            self._report(node, f"{ast.unparse(node)} reads the home folder")
        super().generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        if not isinstance(node.value, str) or id(node) in self.joined:
            return
        text = node.value
        if text in {"HOME", "USERPROFILE"}:
            self._report(node, f"{text!r}: the home folder")
        for pattern, what in (
            (OUTSIDE_FOLDER, "a folder outside the checkout"),
            (PARENT_COMPONENT, "a '..' path"),
            (SHARED_DATA, "the shared data folder"),
        ):
            if pattern.search(text):
                self._report(node, f"{text[:80]!r}: {what}")


def python_problems(file: Path, source: str) -> list[str]:
    scan = _PathScan(file)
    # Names are bound in order, so a constant is known where it is used later in the module.
    scan.visit(ast.parse(source, filename=str(file)))
    return [f"{file.relative_to(ROOT)}:{line}: {message}" for line, message in sorted(scan.problems.items())]


def text_problems(file: Path, text: str) -> list[str]:
    """The Makefile, scripts and configuration: '..' paths resolved, outside folders named."""
    problems = []
    base = ROOT if file.parent == ROOT else file.parent  # make runs at the root; a script from its folder
    resolved = SCRIPT_DIR.sub(str(file.parent), text)
    for number, (line, line_resolved) in enumerate(
        zip(text.splitlines(), resolved.splitlines(), strict=True), start=1
    ):
        where = f"{file.relative_to(ROOT)}:{number}"
        if OUTSIDE_FOLDER.search(line) or SHARED_DATA.search(line):
            problems.append(f"{where}: names a folder outside the checkout: {line.strip()}")
        for token in re.findall(r"[^\s'\"`;|&<>(),=]+", line_resolved):
            if ".." in token.split("/") and not inside(base / token):
                problems.append(f"{where}: {token} leads outside the checkout")
    return problems


def scanned_files() -> list[Path]:
    found = [ROOT / name for name in SCANNED_FILES]
    for folder in SCANNED_DIRS:
        for directory, subdirectories, names in os.walk(ROOT / folder):
            subdirectories[:] = [d for d in subdirectories if d != "__pycache__"]
            for name in names:
                path = Path(directory) / name
                if path.suffix in TEXT_SUFFIXES or (folder == ".ci" and not path.suffix):
                    found.append(path)
    return [path for path in found if path.resolve() != THIS]


def problems_of(file: Path) -> list[str]:
    text = file.read_text(encoding="utf-8")
    return python_problems(file, text) if file.suffix == ".py" else text_problems(file, text)


def test_no_file_of_the_repository_points_outside_it() -> None:
    files = scanned_files()
    assert len([f for f in files if f.suffix == ".py"]) > 200, "the scan found too few files to be real"
    problems = [problem for file in files for problem in problems_of(file)]
    for folder in SCANNED_DIRS:
        for directory, subdirectories, names in os.walk(ROOT / folder):
            for name in [*subdirectories, *names]:
                path = Path(directory) / name
                if path.is_symlink() and not inside(path.resolve()):
                    problems.append(f"{path.relative_to(ROOT)} links to {path.resolve()}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    ("where", "source", "reported"),
    [
        # The regression this test was written after, and its variants.
        ("tests/behaviour/x.py", 'D = Path(__file__).resolve().parents[2].parent / "shared" / "data"', True),
        ("tests/behaviour/x.py", 'D = Path(__file__).resolve().parents[3] / "shared"', True),
        ("tests/x.py", 'ROOT = Path(__file__).parents[1]\nD = ROOT.parent / "shared"', True),
        ("tests/x.py", 'ROOT = Path(__file__).parents[1]\nD = ROOT / ".." / "data" / "x.csv"', True),
        ("tests/x.py", 'D = os.path.join(os.path.dirname(__file__), "..", "..", "data")', True),
        ("tests/x.py", 'D = Path.cwd().parent / "cdnow"', True),
        ("tests/x.py", 'pd.read_csv("../shared/data/cdnow/summary.csv")', True),
        ("tests/x.py", 'D = Path("/work/shared/data/cdnow")', True),
        ("tests/x.py", 'D = "/home/someone/cdnow.csv"', True),
        ("tests/x.py", 'D = Path.home() / "cdnow"', True),
        ("tests/x.py", 'D = Path("~/cdnow").expanduser()', True),
        ("tests/x.py", 'D = os.environ["HOME"]', True),
        ("tests/x.py", 'D = f"{BASE}/shared/data/cdnow"', True),
        # What the suite does on purpose.
        ("tests/packaging/x.py", 'ROOT = Path(__file__).resolve().parents[2]\nD = ROOT / "docs"', False),
        ("tests/x.py", 'D = Path(__file__).parent / ".." / "src" / "segone"', False),
        ("tests/x.py", 'D = Path(__file__).resolve().parent / "data" / "cdnow"', False),
        ("tests/x.py", 'client.get("/api/v1/customers")', False),
        ("tests/x.py", 'open("/proc/cpuinfo"); Path("/tmp/segone-bench"); "/usr/bin/chromium"', False),
        ("tests/x.py", 'print("Loading...")', False),
    ],
)
def test_the_scan_catches(where: str, source: str, reported: bool) -> None:
    assert bool(python_problems(ROOT / where, source)) == reported, python_problems(ROOT / where, source)


@pytest.mark.parametrize(
    ("where", "text", "reported"),
    [
        (".ci/run", 'cd "$(dirname "$0")/.."\nmake test\n', False),
        (".ci/run", 'cd "$(dirname "$0")/../.."\nmake test\n', True),
        ("Makefile", "data:\n\tcp ../shared/data/cdnow/*.csv tests/data/\n", True),
        ("Makefile", "data:\n\tcp $(HOME)/cdnow.csv tests/data/\n", True),
        ("Makefile", "browser:\n\t[ -x /usr/bin/chromium ]\n", False),
    ],
)
def test_the_scan_of_scripts_catches(where: str, text: str, reported: bool) -> None:
    assert bool(text_problems(ROOT / where, text)) == reported, text_problems(ROOT / where, text)


# --- the data-reading tests, watched ------------------------------------------------------------------------

DATA_TESTS = [
    "tests/behaviour/test_events.py",
    "tests/behaviour/test_btyd.py",
    "tests/behaviour/test_btyd_models.py",
    "tests/behaviour/test_ingest.py",
    "tests/cli/test_models.py",
    "-k",
    "(cdnow or summary or published) and not spark",
    "-m",
    "not postgres",
]
WATCHED = ("open", "os.listdir", "os.scandir", "glob.glob")
LISTINGS = {"os.listdir", "os.scandir", "glob.glob"}
# The virtual environment: inside the checkout when `make` made it, so judged before the checkout's rules.
ENVIRONMENT = [Path(p).resolve() for p in {sys.prefix, sys.exec_prefix}]
OPERATING_SYSTEM = ("/proc/", "/sys/", "/etc/", "/usr/share/zoneinfo/")  # read; /dev/ also written

# Runs in the subprocess: records what the tests touch, then hands over to pytest.
WATCHER = f"""
import json, os, sys

WATCHED = {WATCHED!r}
WRITING = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND
seen = set()

def watch(event, args):
    if event not in WATCHED or not args or isinstance(args[0], int) or args[0] is None:
        return
    try:
        path = os.fsdecode(os.fspath(args[0]))
    except TypeError:
        return
    mode = args[1] if event == "open" and len(args) > 1 else None
    flags = args[2] if event == "open" and len(args) > 2 else 0
    writes = any(c in mode for c in "wax+") if isinstance(mode, str) else bool((flags or 0) & WRITING)
    seen.add((event, os.path.join(os.getcwd(), path), writes))

sys.addaudithook(watch)
import pytest

code = pytest.main(sys.argv[2:])
record = sorted(seen)
with open(sys.argv[1], "w") as out:
    json.dump(record, out)
sys.exit(code)
"""

CANARY = """
import os


def test_reads_cdnow_beside_the_checkout():  # named to pass the -k of DATA_TESTS
    try:
        open(os.environ["SEGONE_CANARY"], "rb").close()
    except OSError:
        pass  # the attempt is what the watcher must see
"""


def _installation(scratch: Path) -> list[Path]:
    """The interpreter and where it finds installed code without the checkout's PYTHONPATH."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    listed = subprocess.run(
        [sys.executable, "-c", "import json, sys; print(json.dumps(sys.path[1:]))"],
        env=env,
        cwd=scratch,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [Path(p).resolve() for p in [sys.base_prefix, sys.base_exec_prefix, *json.loads(listed)] if p]


def _tracked() -> set[Path]:
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    return {(ROOT / name).resolve() for name in listed.decode().split("\0") if name}


def _from_the_checkout(event: str, path: Path, writes: bool, tracked: set[Path]) -> str:
    relative = path.relative_to(ROOT).parts
    if "__pycache__" in relative or any(part.endswith((".egg-info", ".dist-info")) for part in relative):
        return ""  # what Python and pip write beside the sources
    if writes:
        return "written into the checkout"
    if event in LISTINGS or path == ROOT or path in tracked:
        return ""
    return "read from the checkout but not in the repository (git ls-files)"


def _judge(
    event: str, path: Path, writes: bool, scratch: Path, installation: list[Path], tracked: set[Path]
) -> str:
    """'' when the watched tests may touch ``path``, else why not."""
    if inside(path, scratch) or any(inside(path, place) for place in ENVIRONMENT):
        return ""
    if event in LISTINGS and inside(scratch, path):
        return ""  # pytest lists the folders above the canary's to collect it
    if inside(path):
        return _from_the_checkout(event, path, writes, tracked)
    if any(inside(path, place) for place in installation):
        return ""
    if str(path).startswith("/dev/") or (str(path).startswith(OPERATING_SYSTEM) and not writes):
        return ""
    return "outside the checkout"


def test_the_data_reading_tests_open_nothing_outside_the_checkout(tmp_path: Path) -> None:
    scratch = tmp_path.resolve()
    (scratch / "tmp").mkdir()
    canary_test = scratch / "canary" / "test_canary.py"
    canary_test.parent.mkdir()
    canary_test.write_text(CANARY)
    canary = (ROOT.parent / "shared" / "data" / "cdnow" / SUMMARY.name).resolve()
    record = scratch / "opened.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env.update(TMPDIR=str(scratch / "tmp"), SEGONE_CANARY=str(canary))
    command = [sys.executable, "-c", WATCHER, str(record)]
    command += ["-q", "-p", "no:cacheprovider", "--rootdir", str(ROOT), "-c", str(ROOT / "pyproject.toml")]
    command += ["--basetemp", str(scratch / "base"), *DATA_TESTS, str(canary_test)]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert re.search(r"\b(\d+) passed\b", done.stdout), done.stdout[-2000:]

    installation = _installation(scratch)
    tracked = _tracked()
    seen = [(event, Path(path).resolve(), writes) for event, path, writes in json.loads(record.read_text())]
    opened = {path for event, path, _ in seen if event == "open"}
    logs = (SAMPLE_LOG, SAMPLE_LOG.with_name("CDNOW_master.txt.gz"))
    for data in (SUMMARY, WITH_TRANSACTIONS, *logs, DONATIONS, SURVIVORS):
        assert data.resolve() in opened, f"{data} was not read: the watched tests no longer read data"
    problems = sorted(
        {
            f"{event} {path}: {why}"
            for event, path, writes in seen
            if (why := _judge(event, path, writes, scratch, installation, tracked))
        }
    )
    assert problems == [f"open {canary}: outside the checkout"], "\n".join(problems)
