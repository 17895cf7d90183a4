"""Imports: customers and facts (docs/import.md describes the formats), the catalogue of offerings
(docs/personalisation.md) and report card ratings (docs/quality.md) from CSV files."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException

from segone.api.deps import MAX_ID, CurrentActor, Db, get_runtime
from segone.api.errors import ErrorOut, responses
from segone.customers import importer
from segone.customers.crm_presets import PRESETS
from segone.customers.schemas import CustomerImportReport
from segone.errors import Invalid
from segone.importing import parse_mapping
from segone.knowledge.categories.service import in_force as categories_in_force
from segone.knowledge.facts import importer as facts_importer
from segone.knowledge.facts.importer import FactImportReport
from segone.personalisation import importer as offerings_importer
from segone.personalisation.schemas import OfferingImportReport
from segone.quality import importer as ratings_importer
from segone.quality import service as quality
from segone.quality.schemas import RatingImportReport, SurveyImportReport
from segone.runtime import Runtime

router = APIRouter(tags=["imports"])

# Media types a CSV file is sent with in practice (Windows labels .csv files as Excel's).
_CSV_TYPES = {
    "",
    "text/csv",
    "text/plain",
    "application/csv",
    "application/octet-stream",
    "application/vnd.ms-excel",
}

_REQUEST_BODY: dict[str, Any] = {
    "required": True,
    "content": {
        "text/csv": {"schema": {"type": "string"}},
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "properties": {"file": {"type": "string", "format": "binary"}},
                "required": ["file"],
            }
        },
    },
}


# What every import route documents: a CSV body, and the 415/422 answers to a bad one.
_IMPORT_ROUTE: dict[str, Any] = {
    "openapi_extra": {"requestBody": _REQUEST_BODY},
    "responses": {
        **responses(401, 403),
        415: {"model": ErrorOut, "description": "The body is neither CSV text nor a multipart file."},
        422: {
            "model": ErrorOut,
            "description": "The file or some rows are bad; nothing was imported. `details` is the import "
            "report, whose `errors` name every bad row (line of the file, column, problem).",
        },
    },
}

# An import into a record named in the path (a survey) also answers 404 when there is no such record.
_IMPORT_INTO_ROUTE: dict[str, Any] = {
    **_IMPORT_ROUTE,
    "responses": {**_IMPORT_ROUTE["responses"], **responses(404)},
}

_DRY_RUN = Query(default=False, description="Check the file and report; write nothing.")


async def _csv_bytes(request: Request) -> bytes:
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media == "multipart/form-data":
        try:
            # The form closes its uploaded files when the block ends.
            async with request.form() as form:
                upload = form.get("file")
                if not isinstance(upload, UploadFile):
                    uploads = [value for value in form.values() if isinstance(value, UploadFile)]
                    upload = uploads[0] if len(uploads) == 1 else None
                if upload is None:
                    raise Invalid("Send the CSV file in the multipart form field 'file'.")
                return await upload.read()
        except StarletteHTTPException as exc:
            # Starlette answers a body it cannot parse as multipart with a bare 400; it is bad input like
            # any other, so the documented 422 that names the body.
            if exc.status_code != 400:
                raise
            raise Invalid.of_field("body", f"The body is not a valid multipart form: {exc.detail}") from exc
    if media in _CSV_TYPES:
        return await request.body()
    raise HTTPException(
        415, f"Send the CSV as text/csv or as a multipart form field 'file', not as '{media}'."
    )


@router.post(
    "/customers/import",
    response_model=CustomerImportReport,
    summary="Import customers from a CSV file",
    **_IMPORT_ROUTE,
)
async def import_customers(
    request: Request,
    db: Db,
    actor: CurrentActor,
    dry_run: bool = _DRY_RUN,
    skip_bad_rows: bool = Query(
        default=False, description="Import the good rows and report the bad ones, instead of nothing."
    ),
    preset: str | None = Query(
        default=None,
        description=f"A CRM's contact export: {', '.join(PRESETS)}. Names are joined, e-mail and phone "
        "become identities, the record id a `hubspot:` / `salesforce:` identity, the company an "
        "attribute (or the customer, on a row without a person's name).",
    ),
    mapping: str | None = Query(
        default=None,
        alias="map",
        description="Columns of the fields as `field=column` pairs separated by commas; `+` joins "
        "columns: `name=First Name+Last Name,phone=Mobile`. Wins over the preset field by field.",
    ),
    encoding: str | None = Query(
        default=None,
        description="The file's encoding (`windows-1250`, `latin-1`...); by default detected: UTF-8, "
        "UTF-16 with a byte order mark, else Windows-1252, else Latin-1.",
    ),
) -> CustomerImportReport:
    """One row per customer: `name` (required unless a `company` names the customer), `kind`, identity
    columns (`email`, `phone`, `identity:<system>`, `identities` as `system:id;system:id`) and any other
    column as an attribute; `preset` and `map` read other layouts. A row whose identities belong to one
    existing customer updates it, so a second import of the same file changes nothing; a row sharing an
    identity with an earlier row is merged into that row's customer and named in `warnings`, as are cells
    that look like spreadsheet formulas (stored as text). `preview` shows the first rows as they are
    imported. All or nothing: if any row is bad, nothing is written and the 422 response's `details` name
    every bad row. Needs the import permission (analysts and administrators)."""
    fields = parse_mapping(mapping)
    data = await _csv_bytes(request)
    return await run_in_threadpool(
        importer.import_customers,
        db,
        actor=actor,
        data=data,
        dry_run=dry_run,
        skip_bad_rows=skip_bad_rows,
        mapping=fields,
        preset=preset,
        encoding=encoding,
    )


@router.post(
    "/facts/import",
    response_model=FactImportReport,
    summary="Import facts (differentiators) from a CSV file",
    **_IMPORT_ROUTE,
)
async def import_facts(
    request: Request,
    db: Db,
    actor: CurrentActor,
    runtime: Annotated[Runtime, Depends(get_runtime)],
    dry_run: bool = _DRY_RUN,
) -> FactImportReport:
    """One row per fact: `customer` (id or identity such as `crm:B00042`) and `text` (required),
    `category` (when empty the classifier suggests one, and `suggested` in the report names those rows),
    `learned_by` (an employee's e-mail) and `learned_at` (ISO date or date-time). A fact the customer's
    sheet holds already is counted as unchanged, so a second import of the same file adds nothing. All or
    nothing: if any row is bad, nothing is written and the 422 response's `details` name every bad row.
    Needs the import permission (analysts and administrators)."""
    data = await _csv_bytes(request)
    return await run_in_threadpool(
        facts_importer.import_facts,
        db,
        actor=actor,
        data=data,
        categories=categories_in_force(runtime.settings),
        data_dir=runtime.settings.data_dir,
        dry_run=dry_run,
    )


@router.post(
    "/offerings/import",
    response_model=OfferingImportReport,
    summary="Import the catalogue of offerings from a CSV file",
    **_IMPORT_ROUTE,
)
async def import_offerings(
    request: Request,
    db: Db,
    actor: CurrentActor,
    dry_run: bool = _DRY_RUN,
    encoding: str | None = Query(
        default=None, description="The file's encoding (`windows-1252`, `latin-1`...); by default detected."
    ),
) -> OfferingImportReport:
    """One row per offering: `key` and `name` (required), `description`, `price_band` (`under_50`,
    `50_200`, `200_plus`, or `under $50`, `$50-200`, `$200+`), `needs` (separated by `;`), `active`
    (yes/no; empty means yes); any other column is an attribute. A row whose key is stored updates that
    offering: each column the file has sets its field (an empty cell empties it), columns it lacks are left
    alone; so a second import of the same file changes nothing. All or nothing: if any row is bad, nothing
    is written and the 422 response's `details` name every bad row. Needs the settings permission
    (administrators)."""
    data = await _csv_bytes(request)
    return await run_in_threadpool(
        offerings_importer.import_offerings, db, actor=actor, data=data, dry_run=dry_run, encoding=encoding
    )


@router.post(
    "/cards/import",
    response_model=RatingImportReport,
    summary="Import report card ratings from a CSV file",
    **_IMPORT_ROUTE,
)
async def import_ratings(
    request: Request,
    db: Db,
    actor: CurrentActor,
    dry_run: bool = _DRY_RUN,
    skip_bad_rows: bool = Query(
        default=False, description="Import the good rows and report the bad ones, instead of nothing."
    ),
    encoding: str | None = Query(
        default=None, description="The file's encoding (`windows-1252`, `latin-1`...); by default detected."
    ),
) -> RatingImportReport:
    """One row per rating: `card` (id or name), `period` (YYYY-MM), `rater` (an internal card's rater by
    e-mail; an external card's customer by id, identity or e-mail), `nps`, `csat`, `comment`, and a column
    per deliverable named as on the card holding its score (1-5; empty: not rated). Each row is checked as
    a rating given by hand, and a rater rates a card once per period. All or nothing: if any row is bad,
    nothing is written and the 422 response's `details` name every bad row; with `skip_bad_rows` the good
    rows are written and the report names the bad ones. Needs the import permission (analysts and
    administrators)."""
    data = await _csv_bytes(request)
    return await run_in_threadpool(
        ratings_importer.import_ratings,
        db,
        actor=actor,
        data=data,
        dry_run=dry_run,
        skip_bad_rows=skip_bad_rows,
        encoding=encoding,
    )


@router.post(
    "/surveys/{survey_id}/import",
    response_model=SurveyImportReport,
    summary="Import customers' survey answers from a CSV file",
    **_IMPORT_INTO_ROUTE,
)
async def import_survey_answers(
    request: Request,
    db: Db,
    actor: CurrentActor,
    survey_id: int = Path(ge=1, le=MAX_ID, description="The survey's id."),
    dry_run: bool = _DRY_RUN,
    encoding: str | None = Query(
        default=None, description="The file's encoding (`windows-1252`, `latin-1`...); by default detected."
    ),
) -> SurveyImportReport:
    """A row per customer: `customer` (id or identity) and `agreement` (1-5). All or nothing: an unknown
    customer, an agreement out of range or a customer who answered already writes nothing, and the 422
    response's `details` name every bad row. Needs the import permission (analysts and administrators)."""
    data = await _csv_bytes(request)
    return await run_in_threadpool(
        quality.import_answers,
        db,
        actor=actor,
        survey_id=survey_id,
        data=data,
        dry_run=dry_run,
        encoding=encoding,
    )
