"""``OPTIONS`` on any path of the app answers 204 with ``Allow``: the methods the path takes (RFC 9110,
9.3.7). An unknown path stays a 404.

Pure ASGI, so it sees the routes as served (every router included, however deeply) and needs no
route of its own per path.
"""

from __future__ import annotations

import re

from fastapi.routing import iter_route_contexts
from starlette.routing import compile_path

from segone.api.errors import ASGIApp, Receive, Scope, Send


class AllowOptions:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._table: list[tuple[re.Pattern[str], frozenset[str]]] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "OPTIONS":
            await self.app(scope, receive, send)
            return
        allowed = self.methods_of(scope["app"], scope["path"])
        if not allowed:
            await self.app(scope, receive, send)
            return
        await send(
            {
                "type": "http.response.start",
                "status": 204,
                "headers": [(b"allow", ", ".join(sorted(allowed)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": b""})

    def methods_of(self, app: object, path: str) -> set[str]:
        if self._table is None:
            # Built on the first OPTIONS request: the routes are all in place by then.
            table = []
            for context in iter_route_contexts(getattr(app, "routes", [])):
                if context.path and context.methods:
                    regex, _, _ = compile_path(context.path)
                    table.append((regex, frozenset(context.methods)))
            self._table = table
        allowed = {method for regex, methods in self._table if regex.match(path) for method in methods}
        if allowed:
            allowed |= {"OPTIONS"} | ({"HEAD"} if "GET" in allowed else set())
        return allowed
