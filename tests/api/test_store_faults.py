"""PostgreSQL going away mid-request (its backends ended, as a restart ends them): the request in flight gets
a clean 503 with ``Retry-After``, never a 500; nothing half-done is left; the next requests are served
normally, the pool reconnecting by itself."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import httpx
import pytest
from sqlalchemy import Connection, create_engine, text
from sqlalchemy.pool import NullPool

from segone.errors import STORE_UNAVAILABLE_RETRY_AFTER
from segone.runtime import Runtime
from segone.storage.engine import create_engine_for
from tests.api.conftest import API
from tests.api.helpers import api_user, error_of
from tests.conftest import LiveServer, _runtime_for
from tests.factories import make_customer, make_user
from tests.web.conftest import csrf_of, signed_in

pytestmark = pytest.mark.postgres


@pytest.fixture
def postgres_runtime(_runtimes: dict[str, Runtime]) -> Iterator[Runtime]:
    yield from _runtime_for("postgres", _runtimes)


@pytest.fixture
def postgres_server(postgres_runtime: Runtime, _servers: dict[str, LiveServer]) -> LiveServer:
    return _servers["postgres"]


def _wait_until_blocked(admin: Connection) -> None:
    """Until a request of the server waits on the row lock ``admin`` holds."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        waiting = admin.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
            )
        ).scalar_one()
        if waiting:
            return
        time.sleep(0.05)
    raise AssertionError("the request never reached the locked row")


def _end_every_other_backend(admin: Connection) -> int:
    ended = admin.execute(
        text(
            "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()) AS ended"
        )
    ).scalar_one()
    return int(ended)


def _cut_off_mid_request(
    runtime: Runtime, customer_id: int, send: Callable[[], httpx.Response]
) -> httpx.Response:
    """Send a request that edits the customer, hold it on the customer's row lock, then end every backend
    of the database but this one (the request's among them) and let it go on."""
    admin_engine = create_engine(runtime.settings.resolved_database_url(), poolclass=NullPool)
    answer: list[httpx.Response] = []
    try:
        with admin_engine.connect() as admin:
            admin.execute(text("SELECT 1 FROM customers WHERE id = :id FOR UPDATE"), {"id": customer_id})
            sender = threading.Thread(target=lambda: answer.append(send()))
            sender.start()
            _wait_until_blocked(admin)
            assert _end_every_other_backend(admin) >= 1
            admin.rollback()
            sender.join(timeout=30)
    finally:
        admin_engine.dispose()
    assert answer, "the request did not come back"
    return answer[0]


def test_an_api_request_cut_off_gets_503_and_the_next_one_is_served(
    postgres_runtime: Runtime, postgres_server: LiveServer
) -> None:
    runtime = postgres_runtime
    customer_id = make_customer(runtime, name="Before")
    token = api_user(runtime).token
    client = httpx.Client(
        base_url=postgres_server.url + API, headers={"Authorization": f"Bearer {token}"}, timeout=30
    )
    with client:
        cut = _cut_off_mid_request(
            runtime, customer_id, lambda: client.patch(f"/customers/{customer_id}", json={"name": "After"})
        )
        error = error_of(cut, 503, "unavailable")
        assert cut.headers["Retry-After"] == str(STORE_UNAVAILABLE_RETRY_AFTER)
        assert "Try again" in error["message"]

        # Every pooled connection of the server was ended too: the next requests reconnect by themselves.
        for _ in range(5):
            record = client.get(f"/customers/{customer_id}")
            assert record.status_code == 200, record.text
        assert (record.json()["name"], record.json()["version"]) == ("Before", 1)  # nothing half-done
        history = client.get(f"/customers/{customer_id}/history").json()
        assert [entry["action"] for entry in history] == ["customer.created"]

        retried = client.patch(f"/customers/{customer_id}", json={"name": "After", "version": 1})
        assert retried.status_code == 200, retried.text
        assert retried.json()["version"] == 2


def test_a_web_form_cut_off_gets_a_503_page(postgres_runtime: Runtime, postgres_server: LiveServer) -> None:
    runtime = postgres_runtime
    customer_id = make_customer(runtime, name="Before")
    with signed_in(postgres_server, make_user(runtime)) as browser:
        token = csrf_of(browser.get(f"/customers/{customer_id}/edit").text)
        cut = _cut_off_mid_request(
            runtime,
            customer_id,
            lambda: browser.post(
                f"/customers/{customer_id}/edit",
                data={"csrf_token": token, "name": "After", "kind": "person", "attributes": ""},
                headers={"Accept": "text/html"},
            ),
        )
        assert cut.status_code == 503
        assert cut.headers["content-type"].startswith("text/html")
        assert cut.headers["Retry-After"] == str(STORE_UNAVAILABLE_RETRY_AFTER)
        assert "Not reachable just now" in cut.text and "not saved" in cut.text
        for _ in range(5):
            page = browser.get(f"/customers/{customer_id}/edit")
            assert page.status_code == 200
        assert 'value="Before"' in page.text


def test_connections_the_server_ended_while_idle_are_replaced_before_use(
    postgres_runtime: Runtime, postgres_server: LiveServer
) -> None:
    """A restart between requests: the pool sees on each connection's socket that it was ended and hands
    out a new one, so not even the first request after it fails (no ping: the connections were used just
    now)."""
    runtime = postgres_runtime
    customer_id = make_customer(runtime, name="Idle")
    token = api_user(runtime).token
    client = httpx.Client(
        base_url=postgres_server.url + API, headers={"Authorization": f"Bearer {token}"}, timeout=30
    )
    admin_engine = create_engine(runtime.settings.resolved_database_url(), poolclass=NullPool)
    with client, admin_engine.connect() as admin:
        assert client.get(f"/customers/{customer_id}/sheet").status_code == 200  # the pool holds connections
        assert _end_every_other_backend(admin) >= 1
        admin.commit()
        time.sleep(0.2)  # the ended backends' goodbyes reach their sockets
        for _ in range(3):
            sheet = client.get(f"/customers/{customer_id}/sheet")
            assert sheet.status_code == 200, sheet.text
            assert client.get(f"/customers/{customer_id}").status_code == 200
    admin_engine.dispose()


def test_a_server_keeps_as_many_connections_as_it_answers_requests_at_once(postgres_runtime: Runtime) -> None:
    """Twenty requests at once hold twenty connections, and all twenty stay open afterwards (SQLAlchemy's
    default kept five and opened and closed the rest for every request)."""
    settings = postgres_runtime.settings.model_copy(update={"database_pool_size": 20})
    engine = create_engine_for(settings)
    try:
        held = [engine.connect() for _ in range(20)]
        backends = {connection.execute(text("SELECT pg_backend_pid()")).scalar_one() for connection in held}
        for connection in held:
            connection.close()
        assert len(backends) == 20 and engine.pool.checkedin() == 20  # type: ignore[attr-defined]
        with engine.connect() as again:
            assert again.execute(text("SELECT pg_backend_pid()")).scalar_one() in backends
    finally:
        engine.dispose()
