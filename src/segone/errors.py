"""The errors services raise; api, web and cli each map them to their own medium.

Each carries a stable machine-readable ``code``, a human ``message`` that says what is wrong, and
optional ``details`` (for example the bad rows of an import).
"""

from __future__ import annotations

from typing import Any


class SegoneError(Exception):
    code = "error"
    http_status = 400

    def __init__(self, message: str, *, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class Invalid(SegoneError):
    code = "invalid"
    http_status = 422


class NotFound(SegoneError):
    code = "not_found"
    http_status = 404


class Conflict(SegoneError):
    code = "conflict"
    http_status = 409


class Unauthenticated(SegoneError):
    code = "unauthenticated"
    http_status = 401


class Forbidden(SegoneError):
    code = "forbidden"
    http_status = 403
