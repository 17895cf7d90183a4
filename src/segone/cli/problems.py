"""A failure as the lines a person at the terminal reads, or None when it is a bug (its traceback shows).

The import kit's, pydantic's and SQLAlchemy's exceptions are recognised by the module that defines them,
not imported: the root command must start without those libraries, and an exception of a class means
that its module is loaded.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, TypeGuard

from segone.errors import SegoneError

if TYPE_CHECKING:
    from pydantic import ValidationError
    from sqlalchemy.exc import OperationalError

    from segone.importing import ImportRejected


def _raised(exc: BaseException, module: str, name: str) -> bool:
    loaded = sys.modules.get(module)
    return loaded is not None and isinstance(exc, getattr(loaded, name))


def _rejected_import(exc: BaseException) -> TypeGuard[ImportRejected]:
    return _raised(exc, "segone.importing.problems", "ImportRejected")


def _invalid_values(exc: BaseException) -> TypeGuard[ValidationError]:
    return _raised(exc, "pydantic_core", "ValidationError")


def _refused_by_the_database(exc: BaseException) -> TypeGuard[OperationalError]:
    return _raised(exc, "sqlalchemy.exc", "OperationalError")


def problem_lines(exc: BaseException) -> list[str] | None:
    """What is wrong, then each detail: for our errors, invalid values, a refusing database, a file."""
    if _rejected_import(exc):
        lines = [exc.message]
        for problem in exc.problems:
            where = f"row {problem.row}" if problem.row is not None else "file"
            column = f", column {problem.column}" if problem.column else ""
            lines.append(f"  {where}{column}: {problem.problem}")
        return lines
    if isinstance(exc, SegoneError):
        return [exc.message]
    if _invalid_values(exc):
        parts = []
        for error in exc.errors():
            field = ".".join(str(p) for p in error.get("loc", ()))
            message = str(error.get("msg", "is not valid")).removeprefix("Value error, ")
            parts.append(f"{field}: {message}" if field else message)
        return ["; ".join(parts)]
    if _refused_by_the_database(exc):
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc).splitlines()[0]
        return [f"The database refused the operation: {reason}"]
    if isinstance(exc, OSError):
        name = f" {exc.filename}" if exc.filename else ""
        return [f"Cannot use{name}: {exc.strerror or exc}"]
    return None
