"""The data-subject export over real HTTP, at the command line and from the sheet's button: one document."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from segone.accounts.schemas import Role
from segone.cli.main import app as cli
from segone.runtime import Runtime
from tests.api.conftest import ClientFactory
from tests.api.helpers import api_user, error_of
from tests.conftest import LiveServer
from tests.factories import make_customer, make_user
from tests.web.conftest import signed_in

_PARTS = {"customer", "exported_at", "exported_by", "record_ids", "behaviour", "tables", "events"}


def test_the_export_is_the_same_document_from_the_api_the_cli_and_the_sheet(
    runtime: Runtime, api: ClientFactory, live_server: LiveServer, tmp_path: Path
) -> None:
    cid = make_customer(runtime, name="Gail Granger", identities=["email:gail@example.com"])
    other = make_customer(runtime, name="Hal Hughes")
    writer = api(api_user(runtime).token)
    writer.post(f"/customers/{cid}/differentiators", json={"text": "Keeps bees", "category": "free_time"})
    writer.post(f"/customers/{other}/differentiators", json={"text": "Sails", "category": "free_time"})
    admin = api_user(runtime, Role.ADMIN)

    error_of(api(None).get(f"/customers/{cid}/data-export"), 401, "unauthenticated")
    error_of(
        api(api_user(runtime, Role.ANALYST).token).get(f"/customers/{cid}/data-export"), 403, "forbidden"
    )
    error_of(api(admin.token).get("/customers/987654/data-export"), 404, "not_found")
    response = api(admin.token).get(f"/customers/{cid}/data-export")
    assert response.status_code == 200, response.text
    document = response.json()
    assert set(document) == _PARTS and document["exported_by"] == admin.email
    assert [f["text"] for f in document["tables"]["differentiators"]] == ["Keeps bees"]
    assert "Sails" not in response.text and "Hal Hughes" not in response.text

    env = {
        "SEGONE_DATA_DIR": str(runtime.settings.data_dir),
        "SEGONE_DATABASE_URL": runtime.settings.database_url or "",
    }
    out = tmp_path / "gail.json"
    result = CliRunner().invoke(
        cli, ["customers", "export-data", "email:gail@example.com", "--output", str(out)], env=env
    )
    assert result.exit_code == 0, result.output
    from_cli = json.loads(out.read_text(encoding="utf-8"))
    assert from_cli["tables"]["differentiators"] == document["tables"]["differentiators"]
    assert from_cli["customer"] == document["customer"]

    with signed_in(live_server, make_user(runtime, Role.ADMIN)) as browser:
        assert f'href="/customers/{cid}/data-export"' in browser.get(f"/customers/{cid}").text
        download = browser.get(f"/customers/{cid}/data-export")
    assert download.status_code == 200
    assert download.headers["content-disposition"].startswith(f'attachment; filename="segone-customer-{cid}-')
    assert json.loads(download.text)["tables"]["differentiators"] == document["tables"]["differentiators"]
    # Each export is in the audit log, and so in the next export.
    actions = [e["action"] for e in json.loads(download.text)["tables"]["audit_log"]]
    assert actions.count("customer.data_exported") == 3
    with signed_in(live_server, make_user(runtime, Role.ANALYST)) as browser:
        assert "/data-export" not in browser.get(f"/customers/{cid}").text
