"""``segone serve``: the web UI and the REST API, in one process or several."""

from __future__ import annotations

import json
import os
from typing import Annotated

import typer

from segone.cli.common import runtime_of
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
                "Jobs and staged events are kept in the store, so any worker answers about them; each "
                "worker flushes staged events and audit reads on its own; with in-memory sign-in limits "
                "(SEGONE_AUTH_LIMIT_STORAGE=memory://) each worker allows its share of the limits."
            ),
        ),
    ] = None,
) -> None:
    """Serve the web UI and the REST API (OpenAPI at /docs), after bringing the store's schema up to date."""
    # Imported here: the web application is the heaviest import, and only this command needs it.
    import uvicorn

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
    if workers == 1:
        from segone.server import create_app, freeze_what_is_loaded

        app = create_app(runtime=runtime)
        freeze_what_is_loaded(app)
        uvicorn.run(app, host=host, port=port, log_level="info")
        return
    # Several processes: the schema is upgraded once, here; each worker builds its app from the settings
    # resolved here, passed on as SEGONE_* variables (the workers inherit this process's environment).
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
