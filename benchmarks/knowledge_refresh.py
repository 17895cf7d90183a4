"""``segone knowledge refresh`` at scale: 100,000 customers with 1,000,000 differentiators.

    .venv/bin/python benchmarks/knowledge_refresh.py [--customers 100000] [--differentiators 1000000]

Builds a SQLite store with the store of ``benchmarks/search.py`` (demo-content facts, half of them shared
facts, the rest generated unique ones, each with a varying suffix), then runs one knowledge refresh in a
child process of its own and prints the seconds of each stage (reading, grouping into traits, confusion
sets, next questions, writing), the counts it found and the child's peak resident memory. Targets (issue 4):
the whole refresh under 5 minutes on 2 cores with TF-IDF; the confusion sets of all customers under 30 s.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import machine

from search import build
from segone.accounts.schemas import SYSTEM
from segone.knowledge.distinguishability import refresh
from segone.runtime import Runtime
from segone.settings import Settings


def child(data_dir: Path) -> None:
    runtime = Runtime(Settings(data_dir=data_dir))
    started = time.perf_counter()
    report = refresh.refresh(runtime.sessions, runtime.settings, actor=SYSTEM)
    total = time.perf_counter() - started
    print(
        f"knowledge refresh: {report.customers:,} customers, {report.differentiators:,} current facts in "
        f"{report.traits:,} traits, {report.segments_of_one:,} segments of one; {total:.1f} s"
    )
    for stage, seconds in report.seconds.items():
        print(f"  {stage:<16} {seconds:8.1f} s")
    print(f"  distribution: {report.distribution}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of the refresh process: {peak:,.0f} MiB (method {runtime.settings.knowledge_method})")
    runtime.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--differentiators", type=int, default=1_000_000)
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    print(f"machine: {machine()}")
    print(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    with tempfile.TemporaryDirectory(prefix="segone-knowledge-") as directory:
        data_dir = Path(directory)
        runtime = Runtime(Settings(data_dir=data_dir))
        started = time.perf_counter()
        build(runtime, args.customers, args.differentiators, 0)
        runtime.dispose()
        print(f"store built in {time.perf_counter() - started:.1f} s")
        subprocess.run([sys.executable, __file__, "--child", str(data_dir)], check=True)


if __name__ == "__main__":
    main()
