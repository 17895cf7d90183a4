"""A browser that opens an unknown address or hits an error gets a page in the product's look with a way
back; the API, and clients that do not ask for HTML, keep the API's JSON (web/errors.py)."""

from __future__ import annotations

import httpx
import pytest

from segone.accounts.schemas import Role
from segone.api.routes import meta
from segone.web import home
from tests.api.helpers import error_of
from tests.conftest import LiveServer
from tests.factories import make_user
from tests.web.conftest import client_for, signed_in

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


def _is_product_page(response: httpx.Response) -> None:
    assert response.headers["content-type"].startswith("text/html")
    assert '<link rel="stylesheet" href="/static/css/app.css">' in response.text
    assert 'href="/"' in response.text  # the way back home


def test_an_unknown_page_in_a_browser_is_an_html_404(live_server: LiveServer) -> None:
    with client_for(live_server) as client:
        response = client.get("/no/such/page", headers=BROWSER)
    assert response.status_code == 404
    _is_product_page(response)
    assert "Not found" in response.text
    assert "Sign in" in response.text  # nobody is signed in: the way on is signing in


def test_a_signed_in_viewer_keeps_the_menu_on_the_404_page(live_server: LiveServer) -> None:
    user = make_user(live_server.runtime, Role.FRONTLINE)
    with signed_in(live_server, user) as client:
        response = client.get("/customers/1/no-such-tab", headers=BROWSER)
    assert response.status_code == 404
    _is_product_page(response)
    assert 'aria-label="Main"' in response.text
    assert "Find a customer" in response.text


def test_a_method_a_page_does_not_take_is_an_html_405(live_server: LiveServer) -> None:
    with client_for(live_server) as client:
        response = client.get("/logout", headers=BROWSER)
    assert response.status_code == 405
    _is_product_page(response)
    assert "Allow" in response.headers


def test_the_api_keeps_json_even_for_a_browser(live_server: LiveServer) -> None:
    with client_for(live_server) as client:
        error_of(client.get("/api/v1/unknown", headers=BROWSER), 404, "not_found")
        error_of(client.get("/api/v1/unknown"), 404, "not_found")
        # A client that does not ask for HTML (curl, scripts) gets JSON outside /api too.
        error_of(client.get("/no/such/page", headers={"Accept": "application/json"}), 404, "not_found")


def test_a_failure_in_a_page_renders_the_error_page(
    live_server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("a bug, for this test")

    monkeypatch.setattr(home, "home_page", broken)
    user = make_user(live_server.runtime, Role.FRONTLINE)
    with signed_in(live_server, user) as client:
        response = client.get("/", headers=BROWSER)
    assert response.status_code == 500
    _is_product_page(response)
    assert "Something went wrong" in response.text
    assert "a bug, for this test" not in response.text  # what failed stays in the log


def test_a_failure_in_the_api_is_a_json_500(live_server: LiveServer, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(**_kwargs: object) -> None:
        raise RuntimeError("a bug, for this test")

    monkeypatch.setattr(meta.knowledge, "list_categories", broken)
    user = make_user(live_server.runtime, Role.FRONTLINE)
    headers = {"Authorization": f"Bearer {user.token}", **BROWSER}
    with client_for(live_server) as client:
        error = error_of(client.get("/api/v1/categories", headers=headers), 500, "internal")
    assert "a bug" not in error["message"]
