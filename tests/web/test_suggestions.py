"""'Facts we may have heard' on the encounter page: confirm, edit or reject each, with plain forms."""

from __future__ import annotations

import re
import shutil
from html import unescape

import pytest
from playwright.sync_api import sync_playwright
from sqlalchemy import select

from segone.accounts.schemas import SYSTEM, Role
from segone.channels import Channel
from segone.encounters import service as encounters
from segone.encounters.schemas import EncounterCreate
from segone.knowledge.categories.service import in_force as categories_in_force
from segone.knowledge.models import Differentiator
from segone.runtime import Runtime
from tests.conftest import LiveServer
from tests.factories import PASSWORD, make_customer, make_user
from tests.web.conftest import csrf_of, signed_in

NOTES = (
    "Came in for new strings. Mentioned: daughter plays cello in the youth orchestra. "
    "Told me: worried about noise for the neighbours in the new flat. "
    "They are saving for a professional cello by the spring."
)


def _encounter(runtime: Runtime) -> tuple[int, int]:
    shutil.rmtree(runtime.settings.data_dir / "models", ignore_errors=True)
    customer = make_customer(runtime, name="Cello Family")
    with runtime.session() as db:
        encounter = encounters.record(
            db,
            actor=SYSTEM,
            customer_id=customer,
            data=EncounterCreate(channel=Channel.STORE, notes=NOTES),
            categories=categories_in_force(runtime.settings),
        ).id
    return customer, encounter


def _suggestions(html: str) -> list[tuple[str, str]]:
    """(suggestion id, text) of each suggestion on the page."""
    ids = re.findall(r'name="suggestion" value="([0-9a-f]{64})"', html)
    texts = [
        unescape(t) for t in re.findall(r'<p class="fact-text"><span class="ink">([^<]+)</span></p>', html)
    ]
    return list(zip(ids, texts, strict=True))


def _facts(runtime: Runtime) -> list[tuple[str, str, int | None]]:
    with runtime.session() as db:
        return [
            (f.text, f.category, f.encounter_id)
            for f in db.scalars(select(Differentiator).order_by(Differentiator.id))
        ]


def test_confirm_edit_and_reject_with_plain_forms(live_server: LiveServer) -> None:
    runtime = live_server.runtime
    _customer, encounter = _encounter(runtime)
    user = make_user(runtime, Role.FRONTLINE)
    with signed_in(live_server, user) as client:
        page = client.get(f"/encounters/{encounter}")
        assert page.status_code == 200
        assert "Facts we may have heard" in page.text
        found = _suggestions(page.text)
        assert [text for _id, text in found] == [
            "Daughter plays cello in the youth orchestra",
            "Worried about noise for the neighbours in the new flat",
            "They are saving for a professional cello by the spring",
        ]
        assert f'formaction="/encounters/{encounter}/suggestions/reject"' in page.text
        token = csrf_of(page.text)
        url = f"/encounters/{encounter}/suggestions"

        # Confirm as suggested (the form sends the suggested text and category).
        confirmed = client.post(
            f"{url}/confirm",
            data={"csrf_token": token, "suggestion": found[0][0], "text": found[0][1], "category": "family"},
        )
        assert confirmed.status_code == 303 and confirmed.headers["location"].endswith("#suggestions")
        # Edited first: other words and another category.
        edited = client.post(
            f"{url}/confirm",
            data={
                "csrf_token": token,
                "suggestion": found[2][0],
                "text": "Saving for a professional cello",
                "category": "motivations",
            },
        )
        assert edited.status_code == 303
        rejected = client.post(f"{url}/reject", data={"csrf_token": token, "suggestion": found[1][0]})
        assert rejected.status_code == 303

        after = client.get(f"/encounters/{encounter}")
        assert _suggestions(after.text) == []
        assert "Nothing new to suggest" in after.text
        assert "Saving for a professional cello" in after.text  # now under "Learned in this encounter"
        # A suggestion no longer open: the page says so, and nothing changes.
        again = client.post(f"{url}/reject", data={"csrf_token": token, "suggestion": found[0][0]})
        assert again.status_code == 404 and "no open suggestion" in again.text
    assert _facts(runtime) == [
        ("Daughter plays cello in the youth orchestra", "family", encounter),
        ("Saving for a professional cello", "motivations", encounter),
    ]


def test_a_category_that_does_not_fit_is_explained_beside_the_suggestion(live_server: LiveServer) -> None:
    runtime = live_server.runtime
    _customer, encounter = _encounter(runtime)
    user = make_user(runtime, Role.FRONTLINE)
    with signed_in(live_server, user) as client:
        page = client.get(f"/encounters/{encounter}")
        suggestion, text = _suggestions(page.text)[0]
        response = client.post(
            f"/encounters/{encounter}/suggestions/confirm",
            data={
                "csrf_token": csrf_of(page.text),
                "suggestion": suggestion,
                "text": text,
                "category": "team",
            },
        )
    assert response.status_code == 422
    assert "is a business category" in unescape(response.text)
    assert '<details class="fact-more" open>' in response.text  # the edit panel stays open to fix it
    assert _facts(runtime) == []


@pytest.mark.browser
@pytest.mark.xdist_group("browser")
def test_suggestions_work_without_javascript_on_a_360px_phone(sqlite_live_server: LiveServer) -> None:
    server = sqlite_live_server
    _customer, encounter = _encounter(server.runtime)
    user = make_user(server.runtime, Role.FRONTLINE)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=["--headless", "--no-sandbox", "--disable-gpu"]
        )
        context = browser.new_context(
            viewport={"width": 360, "height": 780}, is_mobile=True, java_script_enabled=False
        )
        context.set_default_timeout(10_000)
        try:
            page = context.new_page()
            page.goto(f"{server.url}/login?next=/encounters/{encounter}")
            page.get_by_label("E-mail address").fill(user.email)
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url(f"{server.url}/encounters/{encounter}")
            section = page.locator("#suggestions")
            assert section.locator("li.suggestion").count() == 3
            first = section.locator("li.suggestion").first
            first.locator("summary").click()  # Edit: the text and category open beside the suggestion
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
            first.get_by_label("Differentiator").fill("Daughter plays cello in the county youth orchestra")
            first.get_by_role("button", name=re.compile("^Confirm")).click()
            page.wait_for_url(re.compile(r"#suggestions$"))
            assert section.locator("li.suggestion").count() == 2
            section.locator("li.suggestion").first.get_by_role("button", name=re.compile("^Reject")).click()
            page.wait_for_url(re.compile(r"#suggestions$"))
            assert section.locator("li.suggestion").count() == 1
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
            page.screenshot(path="/tmp/segone-suggestions-360.png", full_page=True)
        finally:
            context.close()
            browser.close()
    assert _facts(server.runtime) == [
        ("Daughter plays cello in the county youth orchestra", "family", encounter)
    ]
