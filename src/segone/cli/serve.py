"""``segone serve``: the web UI and the REST API."""

from __future__ import annotations

from typing import Annotated

import typer

from segone.cli.common import runtime_of

app = typer.Typer()


@app.command()
def serve(
    ctx: typer.Context,
    host: Annotated[
        str | None, typer.Option(help="Address to listen on [default: SEGONE_HOST or 127.0.0.1].")
    ] = None,
    port: Annotated[
        int | None, typer.Option(min=1, max=65535, help="Port [default: SEGONE_PORT or 8000].")
    ] = None,
) -> None:
    """Serve the web UI and the REST API (OpenAPI at /docs), after bringing the store's schema up to date."""
    # Imported here: the web application is the heaviest import, and only this command needs it.
    import uvicorn

    from segone.server import create_app

    runtime = runtime_of(ctx, migrated=False)
    runtime.upgrade_schema()
    host = host or runtime.settings.host
    port = port or runtime.settings.port
    typer.echo(
        f"Segment of One on http://{host}:{port} (API docs at /docs and /redoc); Ctrl+C stops it.", err=True
    )
    uvicorn.run(create_app(runtime=runtime), host=host, port=port, log_level="info")
