"""The ASGI application: the REST API under /api/v1 and the web UI, over one runtime."""

from __future__ import annotations

import gc
import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from segone.accounts import service as accounts
from segone.accounts.throttle import AuthThrottle
from segone.api import errors
from segone.api.body_size import MB, BodySizeLimit
from segone.api.options import AllowOptions
from segone.api.routes import (
    advocacy,
    audiences,
    audit,
    behaviour,
    cards,
    customer_service,
    customers,
    differentiators,
    encounters,
    events,
    exports,
    imports,
    jobs,
    knowledge,
    messages,
    meta,
    offerings,
    offers,
    search,
    segmentations,
    suggestions,
    surveys,
    users,
)
from segone.api.schema import make_precise
from segone.behaviour import ingest
from segone.behaviour.flusher import Flusher
from segone.behaviour.stored_ids import StoredIds
from segone.jobs import Jobs
from segone.knowledge.categories.service import in_force as categories_in_force
from segone.runtime import Runtime
from segone.settings import Settings
from segone.version import __version__
from segone.web import api_docs
from segone.web import errors as web_errors
from segone.web import routes as web

log = logging.getLogger(__name__)

API_PREFIX = "/api/v1"
STATIC_DIR = Path(__file__).parent / "web" / "static"


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    runtime: Runtime = app.state.runtime
    interval = runtime.settings.flush_interval_seconds
    dataset = ingest.dataset_of(runtime.settings.data_dir)
    # 0 turns background writing off: staged events wait for a flush, reads are audited as they commit.
    # ``segone serve`` flushes in a process of its own (``flusher.flush_process``), beside its workers.
    flushes = interval > 0 and app.state.flushes
    flusher = Flusher(runtime.sessions, dataset, interval) if flushes else None
    reads = accounts.ReadLog(runtime.sessions) if interval > 0 else None
    for started in (flusher, reads):
        if started is not None:
            started.start()
    # Before the first request, not beside them: a second or two of CPU for ten million events, which a
    # worker's first events batch would wait for, and every request of that worker share.
    _load_stored_ids(app.state.stored_event_ids)
    settling = _freezes_when_settled() if getattr(app.state, "frozen", False) else []
    try:
        yield
    finally:
        for timer in settling:
            timer.cancel()
        for stopped in (reads, flusher):
            if stopped is not None:
                stopped.stop()


def _load_stored_ids(stored: StoredIds) -> None:
    try:
        stored.load()
    except Exception:  # the first events batch reads them again, and reports what is wrong
        log.exception("Reading the ids of the stored events failed.")


# When a serving process freezes again what its first requests left behind (``freeze_what_is_loaded``).
SETTLED_AFTER_SECONDS = (60.0, 600.0)


def freeze_what_is_loaded(app: FastAPI) -> None:
    """Leave the objects of start-up (modules, the app, its routes: millions of them) out of every later
    garbage collection of a server process: a full collection scanned them all, a pause of 70 to 180 ms
    in the middle of requests, several times a minute under load (``gc.freeze``).

    The first requests of each route build more that lives as long (FastAPI's validators and serialisers
    of each route, compiled templates, SQLAlchemy's statement caches: about 35,000 objects), and the full
    collections every few seconds of a busy worker scanned those, 15 to 100 ms each. So the process
    freezes again a minute and ten minutes after it started (``SETTLED_AFTER_SECONDS``). Only ``segone
    serve`` calls it: frozen objects are never collected, which tests building many apps in one process
    could not afford; what a freeze keeps that later becomes garbage is freed by reference counting unless
    it sits in a cycle (the requests in flight at that moment)."""
    gc.collect()
    gc.freeze()
    app.state.frozen = True


def _freezes_when_settled() -> list[threading.Timer]:
    timers = [threading.Timer(after, _freeze_again) for after in SETTLED_AFTER_SECONDS]
    for timer in timers:
        timer.daemon = True
        timer.start()
    return timers


def _freeze_again() -> None:
    gc.collect()
    gc.freeze()


def app_from_environment() -> FastAPI:
    """The application of one worker of ``segone serve --workers N``: uvicorn calls this in each worker
    process, whose settings come from the SEGONE_* variables the parent resolved and passed on."""
    app = create_app(Settings(), flushes=False)
    freeze_what_is_loaded(app)
    return app


def create_app(
    settings: Settings | None = None, *, runtime: Runtime | None = None, flushes: bool = True
) -> FastAPI:
    """The application over ``runtime`` (or one of ``settings``). ``flushes``: whether it moves staged events
    into the dataset in a thread of its own while it runs; ``segone serve`` runs one process for that
    beside its workers instead (``behaviour.flusher``)."""
    runtime = runtime or Runtime(settings or Settings())
    app = FastAPI(
        lifespan=_lifespan,
        title="Segment of One",
        version=__version__,
        description=(
            "Customer learning: what makes each customer different, whether they know we know, "
            "and every encounter that taught us. Authenticate with 'Authorization: Bearer <token>'."
        ),
        openapi_url="/openapi.json",
        # segone serves /docs and /redoc itself (web/api_docs.py): FastAPI's own pages load from a CDN.
        docs_url=None,
        redoc_url=None,
    )
    app.state.runtime = runtime
    app.state.flushes = flushes
    app.state.jobs = Jobs(runtime.sessions, runtime.settings)
    app.state.auth_throttle = AuthThrottle.from_settings(runtime.settings)
    # One index of the dataset's event ids per process: built as batches come, shared by their threads.
    app.state.stored_event_ids = StoredIds(ingest.dataset_of(runtime.settings.data_dir))
    errors.install(app)
    web_errors.install(app)
    app.add_middleware(AllowOptions)
    # Added last, so outermost: it caps the body before the input guard reads it.
    app.add_middleware(
        BodySizeLimit,
        max_body=int(runtime.settings.max_body_mb * MB),
        max_upload=int(runtime.settings.max_upload_mb * MB),
    )
    for module in (
        customers,
        behaviour,
        differentiators,
        encounters,
        users,
        meta,
        imports,
        exports,
        events,
        search,
        knowledge,
        suggestions,
        jobs,
        segmentations,
        audiences,
        offerings,
        messages,
        customer_service,
        offers,
        cards,
        advocacy,
        surveys,
        audit,
    ):
        app.include_router(module.router, prefix=API_PREFIX)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    api_docs.mount_assets(app)
    app.include_router(web.router)
    make_precise(app, categories=[c.name for c in categories_in_force(runtime.settings).all])
    return app
