"""Optimistic versions over HTTP: the version of a customer or a fact is its ETag, and an update names the
version it was made from in ``If-Match`` or in the body's ``version``. A stale one is refused with 409 and
the current record (``errors.StaleVersion``); an update naming none is made whatever the version."""

from __future__ import annotations

from typing import Annotated, Any, Protocol, TypeVar

from fastapi import Depends, Header, Response

from segone.api.errors import ErrorOut
from segone.errors import Invalid

MAX_VERSION = 2**31 - 1

STALE: dict[int | str, dict[str, Any]] = {
    409: {
        "model": ErrorOut,
        "description": (
            "The record changed since the version named in `If-Match` or `version` (code "
            "`version_conflict`: `details.version` is the current version, `details.current` the current "
            "record; nothing was changed), or the change conflicts with its state (e.g. merged, outdated)."
        ),
    }
}


def _if_match(
    if_match: Annotated[
        str | None,
        Header(
            description='The ETag of the version the change was made from, as a GET gave it (`"3"`). '
            "Left out (or `*`), the change is made whatever the version."
        ),
    ] = None,
) -> int | None:
    if if_match is None or if_match.strip() in ("", "*"):
        return None
    tags = [t.strip() for t in if_match.split(",") if t.strip()]
    text = tags[0].removeprefix("W/").strip('"') if len(tags) == 1 else ""
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= MAX_VERSION:
        raise Invalid.of_field("If-Match", 'is not one ETag of this API: send the one a GET gave, e.g. "3"')
    return int(text)


IfMatch = Annotated[int | None, Depends(_if_match)]


def expected_version(header: int | None, body: int | None) -> int | None:
    """The version an update was made from, from either place; both must agree when both are sent."""
    if header is not None and body is not None and header != body:
        raise Invalid.of_field(
            "version", f"says {body} but If-Match says {header}; send one of them, or the same in both"
        )
    return header if header is not None else body


class _Versioned(Protocol):
    @property
    def version(self) -> int: ...


V = TypeVar("V", bound=_Versioned)


def tag(response: Response, record: V) -> V:
    """Give the response the record's version as its ETag; returns the record."""
    response.headers["ETag"] = f'"{record.version}"'
    return record
