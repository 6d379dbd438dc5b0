"""Editing an incident's facts (T1) from its page: pre-filled, saved through the service
with each change on the timeline, errors shown as pages, and only for incident writers."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from html import escape
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from playwright.sync_api import Page, expect

from firestop.access.models import Role
from firestop.incidents import claims, records
from firestop.incidents import service as incidents
from firestop.incidents.models import Continuing
from firestop.incidents.schemas import IncidentDetail, IncidentPatch, SystemVersion
from firestop.incidents.views import incident_view
from firestop.web.facts import shown_time, version
from tests.web.support import Login, assert_inert, client_log_in, log_in, open_form

pytestmark = pytest.mark.usefixtures("demo")

BEGAN = datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=UTC)
HOSTILE_TITLE = '<img src=x onerror="window.__pwned=1">'


def _incident(app: FastAPI) -> str:
    """An incident with every fact set, its times to the microsecond as the service keeps them."""
    with app.state.sessionmaker() as db:
        incident = incidents.create_incident(
            db,
            policy=app.state.policy,
            actor="amara",
            title="Claims triage ranks older claimants last",
            # As an API client may send it: the form must not rewrite its line breaks.
            summary="Ranking skews by age.\r\nFound by the fairness monitor.",
            categories=["harmful_output", "integrity"],
            tags=["owasp-llm:LLM09"],
            what_happened="\nThe ranking model was retrained on 2026-02-27.\n\nAges skew.",
            began_at=BEGAN,
            systems=[
                SystemVersion(
                    system="claims-triage", model_version="rank-7", application_version="4.2.0"
                )
            ],
        )
        incidents.update_incident(
            db,
            policy=app.state.policy,
            key=incident.key,
            actor="amara",
            patch=IncidentPatch(affected_people=120, affected_people_basis="counted"),
        )
        db.commit()
        return incident.key


def _view(app: FastAPI, key: str) -> IncidentDetail:
    with app.state.sessionmaker() as db:
        return incident_view(db, policy=app.state.policy, key=key)


def _events(app: FastAPI, key: str) -> list[tuple[str, str, dict[str, Any] | None]]:
    with app.state.sessionmaker() as db:
        return [(e.kind, e.actor, e.after) for e in records.timeline(db, key)]


def _as_shown(detail: IncidentDetail) -> dict[str, str | list[str]]:
    """What the facts form posts when nobody touches it, line breaks as browsers send them."""
    return {
        "facts_version": version(detail),
        "title": detail.title,
        "summary": _crlf(detail.summary),
        "what_happened": _crlf(detail.what_happened),
        "categories": [c.id for c in reversed(detail.categories)],  # the form's own order
        "tags": " ".join(detail.tags),
        "system": [*(s.system for s in detail.systems), ""],
        "model_version": [*(s.model_version for s in detail.systems), ""],
        "application_version": [*(s.application_version for s in detail.systems), ""],
        "began_at": shown_time(detail.began_at),
        "detected_at": shown_time(detail.detected_at),
        "affected_people": str(detail.affected_people or ""),
        "affected_people_basis": (detail.affected_people_basis or "estimate"),
        "affected_decisions": "",
        "affected_decisions_basis": "estimate",
        "continuing": detail.continuing.value,
    }


def _crlf(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\n", "\r\n")


def test_the_form_is_prefilled_with_the_current_facts(
    app: FastAPI, client: TestClient, make_user: Callable[[Role], Login]
) -> None:
    key = _incident(app)
    client_log_in(client, make_user(Role.responder))
    page = client.get(f"/incidents/{key}").text
    assert f'action="/incidents/{key}/facts"' in page
    assert f'name="facts_version" value="{version(_view(app, key))}"' in page
    assert 'value="Claims triage ranks older claimants last"' in page
    # The newline after the opening tag keeps the text's own leading newline.
    assert (
        '<textarea id="facts-what" name="what_happened" rows="5" maxlength="20000">\n'
        "\nThe ranking model was retrained on 2026-02-27.\n\nAges skew.</textarea>"
    ) in page
    assert 'id="facts-cat-harmful_output" name="categories" value="harmful_output" checked' in page
    assert 'id="facts-cat-integrity" name="categories" value="integrity" checked' in page
    assert 'value="confidentiality">' in page  # not checked
    assert 'value="owasp-llm:LLM09"' in page
    assert '<option value="claims-triage" selected>' in page
    assert 'name="model_version" maxlength="200" value="rank-7"' in page
    assert 'name="began_at" value="2026-03-01T09:30:15"' in page
    assert 'name="affected_people" value="120"' in page
    assert '<option value="counted" selected>' in page
    assert '<option value="unknown" selected>unknown</option>' in page


def test_saving_changes_each_fact_through_the_service_onto_the_timeline(
    app: FastAPI, client: TestClient, make_user: Callable[[Role], Login]
) -> None:
    key = _incident(app)
    responder = make_user(Role.responder)
    csrf = client_log_in(client, responder)
    before = _view(app, key)
    history = _events(app, key)
    form = {
        **_as_shown(before),
        "csrf_token": csrf,
        "title": "  Claims triage ranks claimants over 60 last  ",
        "tags": "owasp-llm:LLM09, atlas:AML.T0020",
        "began_at": "2026-02-27T08:00",
        "affected_people": "",
        "affected_decisions": "3400",
        "affected_decisions_basis": "counted",
        "continuing": "yes",
        # The row of claims-triage keeps its system with a new model version; a second is added.
        "system": ["claims-triage", "knowledge-search"],
        "model_version": ["rank-8", ""],
        "application_version": ["4.2.0", "1.0"],
    }
    response = client.post(f"/incidents/{key}/facts", data=form, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/incidents/{key}?done=facts#facts"

    after = _view(app, key)
    assert after.title == "Claims triage ranks claimants over 60 last"
    assert after.tags == ["owasp-llm:LLM09", "atlas:AML.T0020"]
    assert after.began_at == datetime(2026, 2, 27, 8, 0, tzinfo=UTC)
    assert (after.affected_people, after.affected_people_basis) == (None, None)
    assert (after.affected_decisions, after.affected_decisions_basis) == (3400, "counted")
    assert after.continuing == Continuing.yes
    assert [(s.system, s.model_version, s.application_version) for s in after.systems] == [
        ("claims-triage", "rank-8", "4.2.0"),
        ("knowledge-search", "", "1.0"),
    ]
    # Untouched facts are kept exactly, to the microsecond and the line break.
    assert after.what_happened == before.what_happened
    assert after.summary == before.summary
    assert after.detected_at == before.detected_at
    assert [c.id for c in after.categories] == ["harmful_output", "integrity"]

    new_events = _events(app, key)[len(history) :]
    assert {(kind, actor) for kind, actor, _ in new_events} == {
        ("field.changed", responder.username)
    }
    changed = [field for _, _, after_values in new_events for field in after_values or {}]
    # One event per changed fact, in the service's order; nothing for what stayed.
    assert changed == [
        "title",
        "tags",
        "began_at",
        "affected_people",
        "affected_people_basis",
        "affected_decisions",
        "affected_decisions_basis",
        "continuing",
        "systems",
    ]
    page = client.get(response.headers["location"]).text
    assert "The facts were saved; each change is on the timeline." in page
    assert "Claims triage ranks claimants over 60 last" in page


def test_saving_an_untouched_form_writes_nothing(
    app: FastAPI, client: TestClient, make_user: Callable[[Role], Login]
) -> None:
    key = _incident(app)
    csrf = client_log_in(client, make_user(Role.responder))
    before = _view(app, key)
    events = _events(app, key)
    response = client.post(
        f"/incidents/{key}/facts",
        data={**_as_shown(before), "csrf_token": csrf},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert _events(app, key) == events
    assert _view(app, key).model_dump(exclude={"updated_at"}) == before.model_dump(
        exclude={"updated_at"}
    )


def test_a_form_opened_before_someone_else_changed_the_facts_is_refused(
    app: FastAPI, client: TestClient, make_user: Callable[[Role], Login]
) -> None:
    key = _incident(app)
    csrf = client_log_in(client, make_user(Role.responder))
    opened = {**_as_shown(_view(app, key)), "csrf_token": csrf}

    # Other work on the incident does not make the form stale...
    with app.state.sessionmaker() as db:
        claims.add_claim(
            db, policy=app.state.policy, key=key, actor="rahul", statement="Retraining skewed it."
        )
        db.commit()
    saved = client.post(
        f"/incidents/{key}/facts", data={**opened, "continuing": "yes"}, follow_redirects=False
    )
    assert saved.status_code == 303

    # ...but a change to the facts does: saving would put the old values back unseen.
    opened = {**_as_shown(_view(app, key)), "csrf_token": csrf}
    with app.state.sessionmaker() as db:
        incidents.update_incident(
            db,
            policy=app.state.policy,
            key=key,
            actor="rahul",
            patch=IncidentPatch(what_happened="Rahul's newer account."),
        )
        db.commit()
    stale = client.post(f"/incidents/{key}/facts", data={**opened, "title": "Mine"})
    assert stale.status_code == 409
    assert "someone else changed the facts after you opened the form" in stale.text
    after = _view(app, key)
    assert (after.title, after.what_happened) == (
        "Claims triage ranks older claimants last",
        "Rahul's newer account.",
    )


@pytest.mark.parametrize(
    ("change", "detail", "problem"),
    [
        (
            {"began_at": "2030-01-01T00:00"},
            "the incident cannot begin after it was detected",
            "must not be later than detected_at",
        ),
        ({"tags": "LLM01"}, "tags are not valid", "must be scheme:value"),
        ({"categories": []}, "some facts could not be read", "choose at least one category"),
        ({"began_at": "last Tuesday"}, "some facts could not be read", "a date and time in UTC"),
        (
            {"affected_people": "-3"},
            "some facts are not valid",
            "greater than or equal to 0",
        ),
        ({"title": "   "}, "some facts are not valid", "at least 1 character"),
        (
            {"system": ["claims-triage", "nowhere"], "model_version": ["", ""]},
            "the affected systems are not valid",
            "no system &#39;nowhere&#39; in the inventory",
        ),
        (
            {"system": ["claims-triage"], "model_version": ["a", "b"]},
            "some facts could not be read",
            "each row needs a system and both versions",
        ),
    ],
)
def test_invalid_facts_come_back_as_a_readable_page(
    app: FastAPI,
    client: TestClient,
    make_user: Callable[[Role], Login],
    change: dict[str, Any],
    detail: str,
    problem: str,
) -> None:
    key = _incident(app)
    csrf = client_log_in(client, make_user(Role.responder))
    before = _view(app, key)
    events = _events(app, key)
    form = {**_as_shown(before), "csrf_token": csrf, "title": "Changed", **change}
    if "system" in change:
        form["application_version"] = [""] * len(change["system"])
    response = client.post(
        f"/incidents/{key}/facts",
        data=form,
        headers={"Referer": f"http://testserver/incidents/{key}"},
    )
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("text/html")
    assert "<h1>Invalid input " in response.text
    assert escape(detail) in response.text
    assert problem in response.text
    assert f'<a href="/incidents/{key}">Back to the previous page</a>' in response.text
    # Nothing was half-saved.
    assert _view(app, key).title == before.title
    assert _events(app, key) == events


def test_viewers_get_no_form_and_may_not_post(
    app: FastAPI, client: TestClient, make_user: Callable[[Role], Login]
) -> None:
    key = _incident(app)
    csrf = client_log_in(client, make_user(Role.viewer))
    page = client.get(f"/incidents/{key}").text
    assert "/facts" not in page
    assert "Edit the facts" not in page
    data = {**_as_shown(_view(app, key)), "csrf_token": csrf, "title": "Hijacked"}
    refused = client.post(f"/incidents/{key}/facts", data=data)
    assert refused.status_code == 403
    assert "lacks the &#39;incident:write&#39; permission" in refused.text
    assert _view(app, key).title == "Claims triage ranks older claimants last"


def test_a_post_without_the_csrf_token_is_refused(
    app: FastAPI, client: TestClient, make_user: Callable[[Role], Login]
) -> None:
    key = _incident(app)
    client_log_in(client, make_user(Role.responder))
    data = {**_as_shown(_view(app, key)), "title": "Forged"}
    refused = client.post(f"/incidents/{key}/facts", data=data)
    assert refused.status_code == 403
    assert "CSRF" in refused.text
    wrong = client.post(f"/incidents/{key}/facts", data={**data, "csrf_token": "x" * 43})
    assert wrong.status_code == 403
    assert _view(app, key).title == "Claims triage ranks older claimants last"


def test_a_long_account_in_any_script_fits_the_form(
    app: FastAPI, client: TestClient, make_user: Callable[[Role], Login]
) -> None:
    """What happened may take all 20,000 characters, even where each is three UTF-8 bytes."""
    key = _incident(app)
    csrf = client_log_in(client, make_user(Role.responder))
    account = "事" * 20_000
    data = {**_as_shown(_view(app, key)), "csrf_token": csrf, "what_happened": account}
    response = client.post(f"/incidents/{key}/facts", data=data, follow_redirects=False)
    assert response.status_code == 303
    assert _view(app, key).what_happened == account


@pytest.mark.browser
def test_hostile_markup_in_an_edited_title_stays_text(
    page: Page, app: FastAPI, make_user: Callable[[Role], Login]
) -> None:
    key = _incident(app)
    log_in(page, make_user(Role.responder), next_path=f"/incidents/{key}")
    open_form(page, "Edit the facts")
    form = page.locator("#facts-form")
    expect(form.get_by_label("Title")).to_have_value("Claims triage ranks older claimants last")
    form.get_by_label("Title").fill(HOSTILE_TITLE)
    form.get_by_label("Continuing").select_option("no")
    form.get_by_label("Decisions affected", exact=True).fill("42")
    form.locator("#facts-detected").fill("2026-03-02T10:00:00")
    form.get_by_role("button", name="Save facts").click()

    expect(page.get_by_role("status")).to_have_text(
        "The facts were saved; each change is on the timeline."
    )
    expect(page.locator("#incident-title")).to_have_text(HOSTILE_TITLE)
    facts = page.locator("#facts")
    expect(facts).to_contain_text("42")
    expect(facts).to_contain_text("2026-03-02 10:00:00 UTC")
    timeline = page.locator("#timeline")
    expect(timeline).to_contain_text("field.changed")
    expect(timeline).to_contain_text(HOSTILE_TITLE)
    assert_inert(page, HOSTILE_TITLE)
    # The form shows the new title back as a value, not as markup.
    open_form(page, "Edit the facts")
    expect(page.locator("#facts-title")).to_have_value(HOSTILE_TITLE)
    assert page.evaluate("typeof window.__pwned") == "undefined"
