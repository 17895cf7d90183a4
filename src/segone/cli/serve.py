"""``segone serve``: the web UI and the REST API, in one process or several."""

from __future__ import annotations

import json
import os
import signal
from types import FrameType
from typing import Annotated

import typer

from segone.cli.common import runtime_of
from segone.runtime import Runtime
from segone.settings import Settings

app = typer.Typer()

# Not passed to the workers as a variable: a key set in the environment is inherited anyway, and one kept
# in the data directory's file is read there by each worker (the parent creates the file first).
_NOT_PASSED = {"secret_key"}


@app.command()
def serve(
    ctx: typer.Context,
    host: Annotated[
        str | None, typer.Option(help="Address to listen on [default: SEGONE_HOST or 127.0.0.1].")
    ] = None,
    port: Annotated[
        int | None, typer.Option(min=1, max=65535, help="Port [default: SEGONE_PORT or 8000].")
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            min=1,
            max=64,
            help=(
                "Server processes answering on the port [default: SEGONE_WORKERS or 1]. One process runs "
                "Python code on one CPU at a time: about one worker per CPU serves more requests at once. "
                "Jobs and staged events are kept in the store, so any worker answers about them; one "
                "process beside them moves staged events into the dataset; each worker writes its audit "
                "reads on its own; with in-memory sign-in limits "
                "(SEGONE_AUTH_LIMIT_STORAGE=memory://) each worker allows its share of the limits."
            ),
        ),
    ] = None,
) -> None:
    """Serve the web UI and the REST API (OpenAPI at /docs), after bringing the store's schema up to date."""
    # Imported here, as uvicorn and the web application below: Arrow and the rest of what serving needs are
    # the heaviest imports, and only this command needs them.
    from segone.behaviour.flusher import flush_process

    runtime = runtime_of(ctx, migrated=False)
    runtime.upgrade_schema()
    settings = runtime.settings
    host = host or settings.host
    port = port or settings.port
    workers = workers or settings.workers
    # The number of processes that really serve: each divides the in-memory sign-in limits by it.
    settings = runtime.settings = settings.model_copy(update={"workers": workers})
    many = f" with {workers} worker processes" if workers > 1 else ""
    typer.echo(
        f"Segment of One on http://{host}:{port}{many} (API docs at /docs and /redoc); Ctrl+C stops it.",
        err=True,
    )
    # SIGTERM ends the process by default, and uvicorn passes it on once it stopped serving: the flusher's
    # last flush would be cut off. Raised here instead, it ends the process the same way after that flush.
    signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        with flush_process(settings):
            _serve(runtime, host, port, workers)
    except _Terminated:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.raise_signal(signal.SIGTERM)


def _serve(runtime: Runtime, host: str, port: int, workers: int) -> None:
    import uvicorn

    if workers == 1:
        from segone.server import create_app, freeze_what_is_loaded

        app = create_app(runtime=runtime, flushes=False)
        freeze_what_is_loaded(app)
        uvicorn.run(app, host=host, port=port, log_level="info")
        return
    # Several processes: the schema is upgraded once, here; each worker builds its app from the settings
    # resolved here, passed on as SEGONE_* variables (the workers inherit this process's environment).
    settings = runtime.settings
    settings.resolved_secret_key()  # created once, before the workers would race to create it
    os.environ.update(environment_of(settings))
    runtime.dispose()
    uvicorn.run(
        "segone.server:app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
    )


class _Terminated(Exception):
    """SIGTERM, once the server has stopped serving."""


def _raise_terminated(signum: int, frame: FrameType | None) -> None:
    raise _Terminated


def environment_of(settings: Settings) -> dict[str, str]:
    """The SEGONE_* variables that make ``Settings()`` in another process equal to ``settings``."""
    variables = {}
    for name, value in settings.model_dump(mode="json").items():
        if value is None or name in _NOT_PASSED:
            continue  # None: the field's default (None) in the other process too
        if name == "data_dir":
            value = str(settings.data_dir.resolve())  # the same folder whatever the worker's directory
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, dict | list):
            text = json.dumps(value)
        else:
            text = str(value)
        variables[f"SEGONE_{name.upper()}"] = text
    return variables
