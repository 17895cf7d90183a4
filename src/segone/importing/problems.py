"""What is wrong with an imported file, and the all-or-nothing refusal that names every problem."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from pydantic import BaseModel, Field

from segone.errors import Invalid


class ImportProblem(BaseModel):
    """One thing wrong with an imported file: where it is and what to fix."""

    row: int | None = Field(
        description="Where the row is: the line of a CSV or JSON Lines file where it starts (a CSV "
        "header is line 1), or the record's position (from 1) in Parquet, an events file or an API "
        "batch; null for the whole file."
    )
    column: str | None = Field(default=None, description="The column at fault, as named in the file.")
    problem: str


def row_width_problem(line: int, values: list[str], width: int) -> ImportProblem | None:
    """A CSV row with fewer values than the header has columns, or more that are not blank: the usual
    sign of a missing or extra delimiter, or an unclosed quote."""
    if len(values) >= width and not any(v.strip() for v in values[width:]):
        return None
    return ImportProblem(
        row=line,
        problem=f"the row has {len(values)} values but the header has {width} columns; look for a missing "
        "or extra delimiter, or an unclosed quote",
    )


class ImportReport(BaseModel):
    """What every import reports; each import's report adds what it did."""

    dry_run: bool = False
    rows: int = Field(default=0, description="Data rows read from the file (blank lines are not counted).")
    encoding: str | None = Field(
        default=None,
        description="The encoding the file was read in: the one named, else detected (utf-8, utf-16, "
        "windows-1252, latin-1); null for Parquet, text sent as text, or a file refused before reading.",
    )
    errors: list[ImportProblem] = Field(default_factory=list)
    warnings: list[ImportProblem] = Field(
        default_factory=list,
        description="What was imported but deserves a look, such as a cell that looks like a spreadsheet "
        "formula (stored as text); a warning never stops an import.",
    )


class ImportRejected(Invalid):
    """The file or some of its rows are bad and nothing was written; ``details`` is the report, whose
    ``errors`` name every problem."""

    def __init__(self, message: str, report: ImportReport) -> None:
        super().__init__(message, details=report.model_dump(mode="json"))
        self.report = report

    @property
    def problems(self) -> list[ImportProblem]:
        return self.report.errors

    @classmethod
    def of_file(cls, message: str, *, row: int | None = None, column: str | None = None) -> ImportRejected:
        """A problem with the whole file (or its header), reported as the one error."""
        return cls(message, ImportReport(errors=[ImportProblem(row=row, column=column, problem=message)]))


@contextmanager
def reported_as_dry_run(dry_run: bool) -> Iterator[None]:
    """A file refused while it is only checked says so in its report (``dry_run`` true), whatever refused
    it: its encoding, its format, its header or its rows."""
    try:
        yield
    except ImportRejected as exc:
        if not dry_run or exc.report.dry_run:
            raise
        raise ImportRejected(exc.message, exc.report.model_copy(update={"dry_run": True})) from exc


def bad_rows_message(bad: int, rows: int, *, dry_run: bool = False, more: int = 0) -> str:
    """``"2 of the 3 rows are bad; nothing was imported. ..."``, the message of a rejected import."""
    verb = "is" if bad == 1 else "are"
    extra = f" (and {more} more problems)" if more > 0 else ""
    if dry_run:
        return f"{bad} of the {rows} rows {verb} bad{extra} (dry run: nothing was written)."
    return (
        f"{bad} of the {rows} rows {verb} bad{extra}; nothing was imported. Fix every row the report names "
        "and import the file again."
    )
