"""The model-evaluation page: charts and tables on the CDNOW sample, the empty state without events."""

from __future__ import annotations

import shutil

import pytest

from segone.accounts.permissions import Role
from segone.behaviour.dataset import EventDataset
from segone.behaviour.events import read_cdnow_sample
from tests.conftest import LiveServer
from tests.factories import make_user
from tests.web.conftest import signed_in

pytestmark = pytest.mark.filterwarnings(r"ignore:fetch_arrow_table\(\) is deprecated:DeprecationWarning")


def test_the_page_evaluates_bgnbd_on_the_cdnow_sample(sqlite_live_server: LiveServer) -> None:
    server = sqlite_live_server
    directory = server.runtime.settings.data_dir / "events"
    shutil.rmtree(directory, ignore_errors=True)
    EventDataset(directory).write_batch(read_cdnow_sample())
    try:
        with signed_in(server, make_user(server.runtime, Role.ANALYST)) as client:
            query = "calibration_end=1997-09-30&holdout_end=1998-06-30"
            page = client.get(f"/analytics/models?{query}")
            assert page.status_code == 200, page.text
            html = page.text
            assert "Cumulative repeat purchases" in html and "<polyline" in html and "<rect" in html
            assert html.index("<svg") < html.index("<table")
            assert ">1882<" in html and ">7+<" in html and "format=csv" in html
            assert 'href="/analytics/models"' in html
            csv_text = client.get(f"/analytics/models?{query}&format=csv")
            assert csv_text.status_code == 200 and csv_text.headers["content-type"].startswith("text/csv")
            assert "repeat purchases in holdout,1882" in csv_text.text
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def test_the_page_says_how_to_import_events_when_there_are_none(sqlite_live_server: LiveServer) -> None:
    server = sqlite_live_server
    shutil.rmtree(server.runtime.settings.data_dir / "events", ignore_errors=True)
    with signed_in(server, make_user(server.runtime, Role.ANALYST)) as client:
        page = client.get("/analytics/models")
        assert page.status_code == 200
        assert "segone events import FILE --preset cdnow" in page.text
