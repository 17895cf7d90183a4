"""Administration of the catalogue of offerings: the list, a form to add or change one, and a CSV file
checked first (a dry run with a preview of its first rows), then imported as it was checked."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response

from segone.errors import Conflict
from segone.importing import ImportRejected
from segone.personalisation import importer
from segone.personalisation import service as offerings
from segone.personalisation.schemas import (
    OfferingCreate,
    OfferingImportReport,
    OfferingOut,
    OfferingUpdate,
    PriceBand,
    price_band_label,
)
from segone.runtime import Runtime
from segone.storage import uploads
from segone.web import session as web_session
from segone.web.deps import (
    Form,
    FormFields,
    RuntimeDep,
    SettingsAdmin,
    Viewer,
    field_errors,
    see_other,
    web_router,
)
from segone.web.render import render

router = web_router()

LIST = "/admin/offerings"
NEEDS_SEPARATOR = ";"


def _bands(currency: str) -> list[tuple[str, str]]:
    return [("", "No band")] + [(band.value, price_band_label(band, currency)) for band in PriceBand]


def _list_page(
    request: Request, runtime: Runtime, viewer: Viewer, *, status: int = 200, **context: Any
) -> Response:
    q = request.query_params.get("q", "")[:200]
    with runtime.session() as db:
        page = offerings.list_offerings(db, actor=viewer.actor, search=q, active_only=False, limit=500)
    page_context: dict[str, Any] = {
        "errors": {},
        "values": {},
        "report": None,
        "refused": None,
        "upload": None,
    }
    page_context.update(context)
    return render(
        request,
        "admin/offerings.html",
        status=status,
        offerings=page.items,
        total=page.total,
        q=q,
        bands=_bands(runtime.settings.currency),
        band_labels=dict(_bands(runtime.settings.currency)),
        **page_context,
    )


def _form_values(form: FormFields) -> dict[str, Any]:
    """The form's fields as the schemas take them (needs one per line or separated by ';')."""
    needs = [part for line in form.raw("needs").splitlines() for part in line.split(NEEDS_SEPARATOR)]
    return {
        "name": form.get("name"),
        "description": form.get("description"),
        "price_band": form.get("price_band") or None,
        "needs": needs,
    }


@router.get(LIST)
def offering_list(request: Request, viewer: SettingsAdmin, runtime: RuntimeDep) -> Response:
    return _list_page(request, runtime, viewer)


@router.post(LIST)
def create_offering(request: Request, viewer: SettingsAdmin, form: Form, runtime: RuntimeDep) -> Response:
    try:
        data = OfferingCreate(key=form.get("key"), **_form_values(form))
    except ValidationError as exc:
        return _list_page(
            request, runtime, viewer, status=422, errors=field_errors(exc), values=form.values()
        )
    try:
        with runtime.session() as db:
            made = offerings.create(db, actor=viewer.actor, data=data)
    except Conflict as exc:
        return _list_page(
            request, runtime, viewer, status=409, errors={"key": exc.message}, values=form.values()
        )
    web_session.load(request).flash(f"{made.name} ({made.key}) is in the catalogue.")
    return see_other(LIST)


def _edit_page(
    request: Request,
    runtime: Runtime,
    offering: OfferingOut,
    *,
    status: int = 200,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
) -> Response:
    current = {
        "name": offering.name,
        "description": offering.description,
        "price_band": offering.price_band.value if offering.price_band else "",
        "needs": "\n".join(offering.needs),
    }
    return render(
        request,
        "admin/offering.html",
        status=status,
        offering=offering,
        bands=_bands(runtime.settings.currency),
        errors=errors or {},
        values=values or current,
    )


@router.get(LIST + "/{key}/edit")
def edit_form(request: Request, key: str, viewer: SettingsAdmin, runtime: RuntimeDep) -> Response:
    with runtime.session() as db:
        offering = offerings.get_by_key(db, actor=viewer.actor, key=key)
    return _edit_page(request, runtime, offering)


@router.post(LIST + "/{key}/edit")
def update_offering(
    request: Request, key: str, viewer: SettingsAdmin, form: Form, runtime: RuntimeDep
) -> Response:
    try:
        data = OfferingUpdate(**_form_values(form))
    except ValidationError as exc:
        with runtime.session() as db:
            offering = offerings.get_by_key(db, actor=viewer.actor, key=key)
        return _edit_page(
            request, runtime, offering, status=422, errors=field_errors(exc), values=form.values()
        )
    with runtime.session() as db:
        saved = offerings.update(db, actor=viewer.actor, key=key, data=data)
    web_session.load(request).flash(f"Saved {saved.name} ({saved.key}).")
    return see_other(LIST)


def _set_active(request: Request, runtime: Runtime, viewer: Viewer, key: str, active: bool) -> Response:
    with runtime.session() as db:
        saved = offerings.update(db, actor=viewer.actor, key=key, data=OfferingUpdate(active=active))
    web_session.load(request).flash(
        f"{saved.name} is offered again."
        if active
        else f"{saved.name} is deactivated: no longer offered, kept for the purchases that name it."
    )
    return see_other(LIST)


@router.post(LIST + "/{key}/deactivate")
def deactivate_offering(request: Request, key: str, viewer: SettingsAdmin, runtime: RuntimeDep) -> Response:
    return _set_active(request, runtime, viewer, key, False)


@router.post(LIST + "/{key}/activate")
def activate_offering(request: Request, key: str, viewer: SettingsAdmin, runtime: RuntimeDep) -> Response:
    return _set_active(request, runtime, viewer, key, True)


def _run_import(
    runtime: Runtime, viewer: Viewer, data: bytes, *, dry_run: bool
) -> tuple[OfferingImportReport, str | None]:
    """The import's report, and the message when it refused the file (nothing written then)."""
    try:
        with runtime.session() as db:
            return importer.import_offerings(db, actor=viewer.actor, data=data, dry_run=dry_run), None
    except ImportRejected as exc:
        report = exc.report
        if not isinstance(report, OfferingImportReport):
            report = OfferingImportReport(**report.model_dump())
        return report, exc.message


@router.post(LIST + "/import/check")
def check_file(request: Request, viewer: SettingsAdmin, form: Form, runtime: RuntimeDep) -> Response:
    upload = form.upload("file")
    if upload is None:
        return _list_page(request, runtime, viewer, status=422, errors={"file": "Choose the file to check."})
    data = upload.file.read()
    report, refused = _run_import(runtime, viewer, data, dry_run=True)
    kept = None
    if refused is None and (report.created or report.updated):
        kept = {
            "token": uploads.keep(runtime.settings.data_dir, viewer.user_id, data),
            "name": upload.filename,
        }
    return _list_page(
        request, runtime, viewer, status=422 if refused else 200, report=report, refused=refused, upload=kept
    )


@router.post(LIST + "/import")
def import_file(request: Request, viewer: SettingsAdmin, form: Form, runtime: RuntimeDep) -> Response:
    kept = {"token": form.get("upload"), "name": form.get("file_name")[:300] or "the file"}
    data = uploads.read(runtime.settings.data_dir, viewer.user_id, kept["token"])
    report, refused = _run_import(runtime, viewer, data, dry_run=False)
    if refused is not None:  # the catalogue changed since the check
        return _list_page(request, runtime, viewer, status=422, report=report, refused=refused, upload=kept)
    uploads.drop(runtime.settings.data_dir, viewer.user_id, kept["token"])
    web_session.load(request).flash(
        f"Imported {kept['name']}: {report.created} new offerings, {report.updated} changed, "
        f"{report.unchanged} unchanged."
    )
    return see_other(LIST)
