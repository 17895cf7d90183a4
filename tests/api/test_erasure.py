"""Erasure over real HTTP, at the command line and from the sheet's button: the same erasure, admins only."""

from __future__ import annotations

from typer.testing import CliRunner

from segone.accounts.schemas import Role
from segone.cli.main import app as cli
from segone.runtime import Runtime
from tests.api.conftest import ClientFactory
from tests.api.helpers import api_user, error_of
from tests.conftest import LiveServer
from tests.factories import make_customer, make_user
from tests.web.conftest import csrf_of, signed_in


def _cli(runtime: Runtime, *args: str, stdin: str | None = None) -> tuple[int, str]:
    env = {
        "SEGONE_DATA_DIR": str(runtime.settings.data_dir),
        "SEGONE_DATABASE_URL": runtime.settings.database_url or "",
    }
    result = CliRunner().invoke(cli, ["customers", "erase", *args], env=env, input=stdin)
    return result.exit_code, result.output


def test_the_api_erases_for_administrators_only_and_an_erased_id_is_404(
    runtime: Runtime, api: ClientFactory
) -> None:
    cid = make_customer(runtime, name="Gail Granger", identities=["email:gail@example.com"])
    other = make_customer(runtime, name="Hal Hughes")
    writer = api(api_user(runtime).token)
    writer.post(f"/customers/{cid}/differentiators", json={"text": "Keeps bees", "category": "free_time"})
    admin = api(api_user(runtime, Role.ADMIN).token)

    error_of(api(None).delete(f"/customers/{cid}/personal-data"), 401, "unauthenticated")
    for role in (Role.FRONTLINE, Role.MANAGER, Role.ANALYST):
        error_of(
            api(api_user(runtime, role).token).delete(f"/customers/{cid}/personal-data"), 403, "forbidden"
        )
    error_of(admin.delete("/customers/987654/personal-data"), 404, "not_found")

    response = admin.delete(f"/customers/{cid}/personal-data")
    assert response.status_code == 200, response.text
    done = response.json()
    assert done["customer_id"] == cid and done["record_ids"] == [cid]
    assert done["rows"]["differentiators"] == 1 and done["rows"]["customers"] == 1
    assert "Gail" not in response.text and "bees" not in response.text

    again = error_of(admin.delete(f"/customers/{cid}/personal-data"), 404, "not_found")
    assert "was erased on" in again["message"]
    error_of(admin.get(f"/customers/{cid}"), 404, "not_found")
    assert admin.get(f"/customers/{other}").json()["name"] == "Hal Hughes"
    history = admin.get(f"/audit?customer={cid}").json()["entries"]
    assert [e["summary"] for e in history if e["action"] == "customer.erased"] == [f"Customer {cid} erased"]
    assert not any("Gail" in e["summary"] or "bees" in e["summary"] for e in history)


def test_the_command_erases_after_confirmation_and_refuses_unknown_customers(sqlite_runtime: Runtime) -> None:
    cid = make_customer(sqlite_runtime, name="Ivy Irwin", identities=["email:ivy@example.com"])

    code, output = _cli(sqlite_runtime, "email:nobody@example.com", "--yes")
    assert code == 2 and "No customer has the identity 'email:nobody@example.com'" in output
    code, output = _cli(sqlite_runtime, "987654", "--yes")
    assert code == 2 and "There is no customer 987654" in output
    code, output = _cli(sqlite_runtime, "email:ivy@example.com", stdin="n\n")
    assert code == 1 and "Aborted" in output
    code, output = _cli(sqlite_runtime, "email:ivy@example.com", stdin="y\n")
    assert code == 0, output
    assert f"Erased customer {cid} (records {cid})" in output
    code, output = _cli(sqlite_runtime, str(cid), "--yes")
    assert code == 2 and f"Customer {cid}'s personal data was erased on" in output
    code, output = _cli(
        sqlite_runtime, str(make_customer(sqlite_runtime)), "--yes", "--as", "nobody@example.com"
    )
    assert code == 2


def test_the_sheets_button_asks_for_the_number_then_erases(runtime: Runtime, live_server: LiveServer) -> None:
    cid = make_customer(runtime, name="Jo Jones")
    with signed_in(live_server, make_user(runtime, Role.ANALYST)) as browser:
        assert f"/customers/{cid}/erase" not in browser.get(f"/customers/{cid}").text
    with signed_in(live_server, make_user(runtime, Role.ADMIN)) as browser:
        assert f'href="/customers/{cid}/erase"' in browser.get(f"/customers/{cid}").text
        page = browser.get(f"/customers/{cid}/erase")
        assert page.status_code == 200 and "cannot be undone" in page.text
        wrong = browser.post(
            f"/customers/{cid}/erase", data={"csrf_token": csrf_of(page.text), "confirm": "no"}
        )
        assert wrong.status_code == 422 and f"Type the customer's number, {cid}" in wrong.text
        done = browser.post(
            f"/customers/{cid}/erase",
            data={"csrf_token": csrf_of(wrong.text), "confirm": str(cid)},
            follow_redirects=True,
        )
        assert done.status_code == 200 and f"Customer {cid} erased" in done.text
        assert browser.get(f"/customers/{cid}").status_code == 404
