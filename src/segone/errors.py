"""The errors services raise; api, web and cli each map them to their own medium.

Each carries a stable machine-readable ``code``, a human ``message`` that says what is wrong, and
optional ``details`` (for example the bad rows of an import).
"""

from __future__ import annotations

from typing import Any

STORE_UNAVAILABLE_RETRY_AFTER = 5
"""Seconds a client is told to wait (``Retry-After``) when the database cannot be reached or is busy: a
restart of PostgreSQL, or a SQLite store locked past its busy timeout, is about that long."""

STORE_UNAVAILABLE_MESSAGE = (
    "The database is not reachable just now (it may be restarting or busy); nothing of this request was "
    "saved unless the connection broke while it was being committed. Try again in a few seconds."
)


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

    @classmethod
    def of_field(cls, field: str, message: str, **more: Any) -> Invalid:
        """A refusal of one field's value, with ``details`` in the shape of the API's validation errors
        (``[{"field", "problem", ...more}]``) so that clients and forms find the field either way."""
        return cls(message, details=[{"field": field, "problem": message, **more}])

    @property
    def field(self) -> str | None:
        """The field an ``of_field`` refusal names (None for others)."""
        if isinstance(self.details, list) and self.details and isinstance(self.details[0], dict):
            field = self.details[0].get("field")
            return field if isinstance(field, str) else None
        return None


class NotFound(SegoneError):
    code = "not_found"
    http_status = 404


class Conflict(SegoneError):
    code = "conflict"
    http_status = 409


class StaleVersion(Conflict):
    """An edit made from a version of a record that is no longer its current one: someone else changed it
    in between. ``details`` holds the current ``version`` and the ``current`` record, to redo the edit on."""

    code = "version_conflict"


class Unauthenticated(SegoneError):
    code = "unauthenticated"
    http_status = 401


class Forbidden(SegoneError):
    code = "forbidden"
    http_status = 403


class TooManyAttempts(SegoneError):
    """Too many failed sign-ins or token checks: refused without looking, until ``retry_after`` seconds."""

    code = "too_many_attempts"
    http_status = 429

    def __init__(self, message: str, *, retry_after: int, details: Any = None) -> None:
        super().__init__(message, details=details)
        self.retry_after = retry_after
