"""The page of one signal: the report in full, its decision, and the reporter's contact only
for the people who may triage."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from markupsafe import escape
from playwright.sync_api import Page, expect

from firestop.access.models import Role
from firestop.incidents import records
from firestop.signals import service as signals
from firestop.signals.models import ReportChannel
from tests.web.support import (
    ATTRIBUTE_PAYLOAD,
    SCRIPT_PAYLOAD,
    Login,
    assert_inert,
    client_log_in,
    log_in,
    open_form,
)

CONTACT = "jo.bloggs@example.org, +44 20 7946 0000"
REPORT_TEXT = (
    "The assistant told me my claim was closed.\n\n"
    "    It quoted this:\n"
    f"        {SCRIPT_PAYLOAD}\n"
    "It was not closed."
)


def _report(app: FastAPI, *, contact: str | None = CONTACT, system: str = "claims-triage") -> int:
    with app.state.sessionmaker() as db:
        report = signals.submit_report(
            db,
            text=REPORT_TEXT,
            system=system,
            interaction_ref="conv-7f3a/turn-12",
            contact=contact,
            channel=ReportChannel.help_desk,
            submitted_by="helpdesk-bot",
        )
        db.commit()
        return report.signal.id


def _dismissed(app: FastAPI, signal_id: int, reason: str) -> None:
    with app.state.sessionmaker() as db:
        signals.dismiss_signal(db, signal_id=signal_id, actor="rahul", reason=reason)
        db.commit()


@pytest.mark.usefixtures("demo")
def test_readers_see_the_whole_report_but_not_the_contact(
    app: FastAPI, client: TestClient, make_user: Callable[[Role], Login]
) -> None:
    signal_id = _report(app)
    client_log_in(client, make_user(Role.viewer))
    page = client.get(f"/signals/{signal_id}")
    assert page.status_code == 200
    html = page.text
    # Escaped, every space and line break kept inside a pre-wrap block.
    assert f'<div class="quoted" id="report-text">{escape(REPORT_TEXT)}</div>' in html
    assert SCRIPT_PAYLOAD not in html
    assert '<a href="/inventory/systems/claims-triage">' in html
    assert '<dd id="report-channel">help desk</dd>' in html
    assert "conv-7f3a/turn-12" in html
    assert "helpdesk-bot" in html
    assert re.search(r'<time datetime="[^"]+">\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC</time>', html)
    assert "jo.bloggs" not in html
    assert "shown only to people who triage signals" in html
    assert "<form" not in html.split("</header>", 1)[1]  # no triage forms for a reader


def test_triagers_see_the_contact_and_the_decision_forms(
    app: FastAPI, client: TestClient, make_user: Callable[[Role], Login]
) -> None:
    signal_id = _report(app, system="a chatbot <i>somewhere</i>")
    client_log_in(client, make_user(Role.responder))
    html = client.get(f"/signals/{signal_id}").text
    assert f'<dd id="report-contact">{CONTACT}</dd>' in html
    # Not in the inventory: shown as the reporter wrote it, as text.
    assert "named by the reporter: “a chatbot &lt;i&gt;somewhere&lt;/i&gt;”" in html
    for action in ("accept", "near-miss", "dismiss"):
        assert f'action="/signals/{signal_id}/{action}"' in html
    assert html.count('<input type="hidden" name="return_to" value="signal">') == 2


def test_a_decision_from_the_signal_page_returns_to_it(
    app: FastAPI, client: TestClient, make_user: Callable[[Role], Login]
) -> None:
    signal_id = _report(app)
    responder = make_user(Role.responder)
    csrf = client_log_in(client, responder)
    done = client.post(
        f"/signals/{signal_id}/dismiss",
        data={
            "csrf_token": csrf,
            "reason": "Checked: the claim\nwas closed.",
            "return_to": "signal",
        },
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert done.headers["location"] == f"/signals/{signal_id}?done=dismissed"
    html = client.get(done.headers["location"]).text
    assert "The signal was dismissed." in html
    assert f'<dd id="decided-by">{responder.username}</dd>' in html
    assert '<div class="quoted" id="decision-reason">Checked: the claim\nwas closed.</div>' in html
    assert f'action="/signals/{signal_id}/' not in html  # decided: no more forms

    # Anywhere else but the two fixed places is refused, not followed.
    other = _report(app)
    elsewhere = client.post(
        f"/signals/{other}/near-miss",
        data={"csrf_token": csrf, "reason": "r", "return_to": "https://evil.example/"},
        follow_redirects=False,
    )
    assert elsewhere.status_code == 422
    with app.state.sessionmaker() as db:
        assert signals.get_signal(db, other).status == "new"


def test_an_accepted_signal_links_its_incident_and_back(
    app: FastAPI, client: TestClient, make_user: Callable[[Role], Login]
) -> None:
    signal_id = _report(app)
    csrf = client_log_in(client, make_user(Role.responder))
    accepted = client.post(
        f"/signals/{signal_id}/accept",
        data={"csrf_token": csrf, "categories": ["harmful_output"], "note": "real"},
        follow_redirects=False,
    )
    key = accepted.headers["location"].split("/")[2].split("?")[0]
    html = client.get(f"/signals/{signal_id}").text
    assert f'<a class="mono" href="/incidents/{key}">{key}</a>' in html
    incident = client.get(f"/incidents/{key}").text
    assert f'<a href="/signals/{signal_id}">signal {signal_id}</a>' in incident
    with app.state.sessionmaker() as db:
        assert records.timeline(db, key)[-1].kind == "signal.accepted"


def test_decision_errors_and_refusals_on_the_signal_page(
    app: FastAPI, client: TestClient, make_user: Callable[[Role], Login]
) -> None:
    signal_id = _report(app)
    csrf = client_log_in(client, make_user(Role.responder))
    action = f"/signals/{signal_id}/near-miss"
    blank = client.post(action, data={"csrf_token": csrf, "reason": " ", "return_to": "signal"})
    assert blank.status_code == 422
    assert "a reason is required" in blank.text
    forged = client.post(action, data={"reason": "forged", "return_to": "signal"})
    assert forged.status_code == 403
    assert "CSRF" in forged.text

    client.cookies.clear()
    viewer_csrf = client_log_in(client, make_user(Role.viewer))
    denied = client.post(
        action, data={"csrf_token": viewer_csrf, "reason": "x", "return_to": "signal"}
    )
    assert denied.status_code == 403
    assert "lacks the &#39;triage&#39; permission" in denied.text
    with app.state.sessionmaker() as db:
        assert signals.get_signal(db, signal_id).status == "new"


def test_who_may_open_a_signal_page(
    app: FastAPI, client: TestClient, make_user: Callable[[Role], Login]
) -> None:
    signal_id = _report(app)
    anonymous = client.get(f"/signals/{signal_id}", follow_redirects=False)
    assert anonymous.status_code == 303
    assert anonymous.headers["location"] == f"/login?next=/signals/{signal_id}"

    client_log_in(client, make_user(Role.reporter))
    refused = client.get(f"/signals/{signal_id}")
    assert refused.status_code == 403
    assert REPORT_TEXT.splitlines()[0] not in refused.text

    client.cookies.clear()
    client_log_in(client, make_user(Role.viewer))
    assert client.get("/signals/999").status_code == 404
    assert client.get("/signals/99999999999999999999").status_code == 422
    # The queue links each waiting signal to its page.
    assert f'<a href="/signals/{signal_id}">' in client.get("/").text


def test_a_detector_signal_shows_its_summary(
    app: FastAPI, client: TestClient, make_user: Callable[[Role], Login]
) -> None:
    signal_id = _report(app)
    _dismissed(app, signal_id, "duplicate")
    with app.state.sessionmaker() as db:
        signal = signals.get_signal(db, signal_id)
        signal.report = None
        signal.source = "detector"
        signal.detector_id = "pii.email"
        db.commit()
    client_log_in(client, make_user(Role.responder))
    html = client.get(f"/signals/{signal_id}").text
    assert '<div class="quoted" id="signal-summary">' in html
    assert "pii.email" in html
    assert 'id="report-contact"' not in html


@pytest.mark.browser
@pytest.mark.usefixtures("demo")
def test_the_contact_is_hidden_from_viewers_and_shown_to_responders(
    page: Page, app: FastAPI, make_user: Callable[[Role], Login]
) -> None:
    contact = f"call me {ATTRIBUTE_PAYLOAD}"
    signal_id = _report(app, contact=contact)

    log_in(page, make_user(Role.viewer))
    page.locator(f"#signal-{signal_id} h3 a").click()
    expect(page).to_have_url(f"/signals/{signal_id}")
    expect(page.locator("#report-text")).to_have_text(REPORT_TEXT)
    # Whitespace is kept: the indented lines render indented.
    assert page.locator("#report-text").evaluate("e => getComputedStyle(e).whiteSpace") == (
        "pre-wrap"
    )
    expect(page.locator("#report-channel")).to_have_text("help desk")
    expect(page.get_by_role("link", name="Motor claims triage")).to_be_visible()
    expect(page.locator("#report-contact")).to_have_text("shown only to people who triage signals")
    expect(page.get_by_text("call me")).to_have_count(0)
    expect(page.locator("main form")).to_have_count(0)
    assert_inert(page, SCRIPT_PAYLOAD)

    page.context.clear_cookies()
    log_in(page, make_user(Role.responder), next_path=f"/signals/{signal_id}")
    expect(page.locator("#report-contact")).to_have_text(contact)
    assert_inert(page, SCRIPT_PAYLOAD, contact)

    open_form(page, "Log as a near miss")
    page.get_by_label("Why was harm possible").fill("The human reviewer caught it.")
    page.get_by_role("button", name="Log near miss").click()
    expect(page).to_have_url(f"/signals/{signal_id}?done=near_miss")
    expect(page.get_by_role("status")).to_have_text("The signal was logged as a near miss.")
    expect(page.locator("#signal-status")).to_have_text("near miss")
    expect(page.locator("#decision-reason")).to_have_text("The human reviewer caught it.")
