"""What the benchmark scripts share: a description of the machine, and scratch PostgreSQL databases."""

from __future__ import annotations

import os
import platform
import uuid
from pathlib import Path

from sqlalchemy import Engine, create_engine, make_url, text

# The benchmark stores' customers gave their consent (SEGONE_CONSENT_DEFAULT, as for a business that holds
# it elsewhere): under the product's default, refused, they would not be segmented, and every sheet and
# briefing measured would lack its segment path and standing.
CONSENT = "granted"


def machine() -> str:
    """CPUs, CPU model, memory and Python version, as the figures in docs/benchmarks.md state them."""
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if "model name" in line
        ),
        platform.processor() or "unknown CPU",
    )
    memory_kib = next(
        int(line.split()[1])
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal")
    )
    memory = f"{memory_kib / 1024**2:.1f} GiB RAM"
    return f"{os.cpu_count()} CPUs ({model}), {memory}, Python {platform.python_version()}"


def scratch_database(server_url: str) -> tuple[str, str]:
    """A new database on the server of ``server_url``: its URL, and its name (to drop afterwards)."""
    name = f"segone_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(server_url).set(database=name).render_as_string(hide_password=False), name


def drop_database(server_url: str, name: str) -> None:
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def vacuumed(engine: Engine) -> str | None:
    """PostgreSQL: vacuum and analyse the whole store before a run, and say so. A store kept between runs
    collects dead rows with every run (the events staged and flushed, the profiles each refresh replaces),
    which autovacuum would clear between them on a server where it runs. Where it is off (the test server
    here, ``conf.d/90-ci.conf``), eight runs left the staging table 5.6 million dead rows (1.2 GB) for a
    few thousand live ones. Each run then starts from the state a server with autovacuum would be in.
    None on SQLite."""
    if engine.dialect.name != "postgresql":
        return None
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        setting = connection.exec_driver_sql("SHOW autovacuum").scalar()
        connection.exec_driver_sql("VACUUM (ANALYZE)")
    return f"the store vacuumed and analysed before the run (this server's autovacuum: {setting})"
