"""Importing customers from a file, for analysts: upload, check (a dry run with a preview of the first
rows), then import what was checked."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from segone.customers import importer
from segone.customers.crm_presets import PRESETS
from segone.customers.schemas import CustomerImportReport
from segone.errors import Invalid
from segone.importing import ImportRejected, parse_mapping
from segone.runtime import Runtime
from segone.storage import uploads
from segone.web import session as web_session
from segone.web.deps import Form, FormFields, Importer, RuntimeDep, Viewer, see_other, web_router
from segone.web.render import render

router = web_router()

PRESET_LABELS = {
    "hubspot": "HubSpot: a contacts export",
    "salesforce": "Salesforce: a contacts report",
}
PRESET_CHOICES = [("", "A file with segone's columns (name, email, phone…)")] + [
    (name, PRESET_LABELS.get(name, name)) for name in PRESETS
]
ENCODING_CHOICES = [
    ("", "Detect it (UTF-8, UTF-16, else Windows-1252)"),
    ("utf-8", "UTF-8"),
    ("windows-1252", "Windows-1252: western Europe and the Americas"),
    ("windows-1250", "Windows-1250: central Europe"),
    ("windows-1251", "Windows-1251: Cyrillic"),
    ("latin-1", "Latin-1 (ISO 8859-1)"),
    ("utf-16", "UTF-16"),
]


def _page(request: Request, *, status: int = 200, **context: Any) -> Response:
    page: dict[str, Any] = {
        "values": {},
        "errors": {},
        "report": None,
        "refused": None,
        "upload": None,
    }
    page.update(context)
    return render(
        request,
        "customers/import.html",
        status=status,
        presets=PRESET_CHOICES,
        encodings=ENCODING_CHOICES,
        **page,
    )


def _options(form: FormFields) -> tuple[dict[str, str], dict[str, str] | None, dict[str, str]]:
    """The form's choices as typed, the column map they give, and what is wrong with them."""
    values = {name: form.get(name)[:2000] for name in ("preset", "encoding", "map")}
    errors: dict[str, str] = {}
    mapping = None
    try:
        mapping = parse_mapping(values["map"])
    except Invalid as exc:
        errors["map"] = exc.message
    return values, mapping, errors


def _run(
    runtime: Runtime,
    viewer: Viewer,
    data: bytes,
    values: dict[str, str],
    mapping: dict[str, str] | None,
    *,
    dry_run: bool,
    skip_bad_rows: bool = False,
) -> tuple[CustomerImportReport, str | None]:
    """The import's report, and the message when it refused the file (nothing written then)."""
    try:
        with runtime.session() as db:
            report = importer.import_customers(
                db,
                actor=viewer.actor,
                data=data,
                dry_run=dry_run,
                skip_bad_rows=skip_bad_rows,
                mapping=mapping,
                preset=values["preset"] or None,
                encoding=values["encoding"] or None,
            )
        return report, None
    except ImportRejected as exc:
        refused = exc.report
        if not isinstance(refused, CustomerImportReport):
            refused = CustomerImportReport(
                **refused.model_dump(exclude={"created", "updated", "unchanged"}),
                created=0,
                updated=0,
                unchanged=0,
            )
        return refused, exc.message


@router.get("/customers/import")
def import_form(request: Request, viewer: Importer) -> Response:
    return _page(request)


@router.post("/customers/import/check")
def check_file(request: Request, viewer: Importer, form: Form, runtime: RuntimeDep) -> Response:
    values, mapping, errors = _options(form)
    upload = form.upload("file")
    if upload is None:
        errors["file"] = "Choose the file to check."
    if upload is None or errors:
        return _page(request, status=422, values=values, errors=errors)
    data = upload.file.read()
    report, refused = _run(runtime, viewer, data, values, mapping, dry_run=True)
    kept = None
    if report.preview:  # a file refused as a whole cannot be imported: nothing to keep
        kept = {
            "token": uploads.keep(runtime.settings.data_dir, viewer.user_id, data),
            "name": upload.filename,
        }
    return _page(
        request,
        status=422 if refused and not report.preview else 200,
        values=values,
        report=report,
        refused=refused,
        upload=kept,
    )


@router.post("/customers/import")
def import_file(request: Request, viewer: Importer, form: Form, runtime: RuntimeDep) -> Response:
    values, mapping, errors = _options(form)
    kept = {"token": form.get("upload"), "name": form.get("file_name")[:300] or "the file"}
    if errors:
        return _page(request, status=422, values=values, errors=errors)
    data = uploads.read(runtime.settings.data_dir, viewer.user_id, kept["token"])
    report, refused = _run(
        runtime, viewer, data, values, mapping, dry_run=False, skip_bad_rows=form.get("skip_bad_rows") == "1"
    )
    if refused is not None:
        return _page(request, status=422, values=values, report=report, refused=refused, upload=kept)
    uploads.drop(runtime.settings.data_dir, viewer.user_id, kept["token"])
    merged = f", {report.merged} rows merged into earlier ones" if report.merged else ""
    skipped = f", {report.skipped} bad rows left out" if report.skipped else ""
    web_session.load(request).flash(
        f"Imported {kept['name']}: {report.created} new customers, {report.updated} updated, "
        f"{report.unchanged} unchanged{merged}{skipped}."
    )
    return see_other("/customers")
