"""What docs/scale.md promises: its Python examples run and print what it shows; the Spark URLs it documents
name the master and settings it says (without a cluster: the session builder is replaced)."""

from __future__ import annotations

import re
from pathlib import Path

import pyarrow as pa
import pytest

import segone
from segone.analytics import backend
from segone.behaviour.dataset import EventDataset
from segone.behaviour.events import validate_events
from segone.settings import Settings

SCALE_MD = Path(__file__).resolve().parents[2] / "docs" / "scale.md"


def test_the_warehouse_example_runs_and_prints_what_the_page_shows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    text = SCALE_MD.read_text()
    examples = re.findall(r"```python\n(.*?)```", text, re.S)
    assert len(examples) == 2
    shown = re.search(r"It prints:\n\n```\n(.*?)```", text, re.S)
    assert shown is not None
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {}
    for code in examples:
        exec(compile(code, str(SCALE_MD), "exec"), namespace)
    assert capsys.readouterr().out == shown.group(1)
    assert (tmp_path / "warehouse.duckdb").is_file()


class SessionRequested(Exception):
    """Raised instead of starting Spark: carries the master and the settings asked for."""


@pytest.mark.parametrize(
    ("url", "master", "settings"),
    [
        ("pyspark://", "local[2]", {}),
        ("pyspark://local[4]", "local[4]", {}),
        (
            "pyspark://spark://spark-master:7077?spark.executor.memory=8g&spark.cores.max=16",
            "spark://spark-master:7077",
            {"spark.executor.memory": "8g", "spark.cores.max": "16"},
        ),
        (
            "pyspark://spark-master:7077?spark.executor.memory=8g",
            "spark://spark-master:7077",
            {"spark.executor.memory": "8g"},
        ),
        ("pyspark://10.0.0.5:7077", "spark://10.0.0.5:7077", {}),
        ("pyspark://yarn?spark.driver.host=10.0.0.9", "yarn", {"spark.driver.host": "10.0.0.9"}),
        (
            "pyspark://k8s://https://k8s.example:6443?spark.kubernetes.container.image=spark:4.0",
            "k8s://https://k8s.example:6443",
            {"spark.kubernetes.container.image": "spark:4.0"},
        ),
        ("pyspark://yarn?spark.x=a%26b%2Bc+d%25", "yarn", {"spark.x": "a&b+c d%"}),
    ],
)
def test_spark_urls_name_the_master_and_the_settings(
    url: str, master: str, settings: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def requested(master: str = "local[2]", config: dict[str, str] | None = None) -> None:
        raise SessionRequested(master, dict(config or {}))

    monkeypatch.setattr(backend, "spark_session", requested)
    with pytest.raises(SessionRequested) as raised:
        backend.connect(url, tmp_path)
    assert raised.value.args == (master, settings)


def test_an_ibis_url_without_parquet_support_cannot_read_the_events(tmp_path: Path) -> None:
    validated = validate_events(
        pa.table({"customer": ["crm:1"], "type": ["purchase"], "ts": ["2024-01-02"], "value": [1.0]})
    )
    assert validated.table is not None
    EventDataset(tmp_path / "events").write_batch(validated.table)
    url = f"sqlite:///{tmp_path / 'analytics.db'}"
    with pytest.raises(NotImplementedError, match="does not support direct registration of parquet"):
        segone.connect(Settings(data_dir=tmp_path, analytics_url=url))
