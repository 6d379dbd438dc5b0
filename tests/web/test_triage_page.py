"""Triage through the dashboard's forms, in a browser."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from fastapi import FastAPI
from playwright.sync_api import Page, expect

from firestop.access.models import Role
from firestop.incidents import service as incidents
from firestop.signals import service as signals
from firestop.web import pages_dashboard
from tests.web.support import Login, log_in, open_form


def _reports(app: FastAPI, *texts: str) -> list[int]:
    with app.state.sessionmaker() as db:
        ids = [signals.submit_report(db, text=t).signal.id for t in texts]
        db.commit()
    return ids


@pytest.mark.browser
def test_dismiss_and_near_miss_need_a_reason_and_leave_the_queue(
    page: Page, app: FastAPI, make_user: Callable[[Role], Login]
) -> None:
    dismissed, near_miss, waiting = _reports(
        app, "The bot wished me a nice day.", "It almost sent my file to a stranger.", "Other"
    )
    log_in(page, make_user(Role.responder))
    queue = page.locator("#triage")
    expect(queue.locator("li.signal")).to_have_count(3)

    item = queue.locator(f"#signal-{dismissed}")
    open_form(item, "Dismiss")
    item.get_by_role("button", name="Dismiss signal").click()
    # The browser will not send the form without a reason.
    expect(page).to_have_url("/")
    item.get_by_label("Why does it need no action?").fill("Expected behaviour.")
    item.get_by_role("button", name="Dismiss signal").click()
    expect(page.get_by_role("status")).to_have_text("The signal was dismissed.")
    expect(queue.locator(f"#signal-{dismissed}")).to_have_count(0)

    item = queue.locator(f"#signal-{near_miss}")
    open_form(item, "Log as a near miss")
    item.get_by_label("Why was harm possible").fill("The recipient check stopped it.")
    item.get_by_role("button", name="Log near miss").click()
    expect(page.get_by_role("status")).to_have_text("The signal was logged as a near miss.")
    expect(queue.locator("li.signal")).to_have_count(1)
    expect(queue.locator(f"#signal-{waiting}")).to_be_visible()

    with app.state.sessionmaker() as db:
        assert signals.get_signal(db, dismissed).decision_reason == "Expected behaviour."
        assert signals.get_signal(db, near_miss).status == "near_miss"


@pytest.mark.browser
def test_accept_into_an_existing_incident(
    page: Page, app: FastAPI, make_user: Callable[[Role], Login]
) -> None:
    with app.state.sessionmaker() as db:
        incident = incidents.create_incident(
            db,
            policy=app.state.policy,
            actor="tests",
            title="Refund tool misused",
            categories=["insecure_behaviour"],
        )
        db.commit()
    (signal_id,) = _reports(app, "It refunded me twice without asking.")
    log_in(page, make_user(Role.responder))

    item = page.locator(f"#signal-{signal_id}")
    open_form(item, "Add to an existing incident")
    item.get_by_label("Incident key").fill(incident.key)
    item.locator(f"#note-existing-{signal_id}").fill("Same refund pattern.")
    item.get_by_role("button", name="Add to incident").click()

    expect(page).to_have_url(re.compile(rf"/incidents/{incident.key}\?done=accepted"))
    expect(page.get_by_role("status")).to_have_text("The signal was accepted into the incident.")
    expect(page.locator("#timeline")).to_contain_text("signal.accepted")
    expect(page.locator("#timeline")).to_contain_text("Same refund pattern.")
    page.goto("/")
    expect(page.locator("#triage li.signal")).to_have_count(0)


@pytest.mark.browser
def test_readers_see_the_queue_without_the_forms(
    page: Page, app: FastAPI, make_user: Callable[[Role], Login]
) -> None:
    _reports(app, "Odd answer about my premium.")
    log_in(page, make_user(Role.viewer))
    expect(page.locator("#triage")).to_contain_text("Odd answer about my premium.")
    expect(page.locator("#triage form")).to_have_count(0)


@pytest.mark.browser
def test_the_queue_refreshes_itself_but_not_under_a_half_filled_form(
    page: Page, app: FastAPI, make_user: Callable[[Role], Login], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pages_dashboard, "REFRESH_SECONDS", 2)
    log_in(page, make_user(Role.responder))
    page.evaluate("window.__marker = 'before'")
    _reports(app, "Arrived after the page was loaded.")
    # Idle, the page reloads by itself and shows the new signal.
    expect(page.locator("#triage")).to_contain_text("Arrived after the page was loaded.")
    assert page.evaluate("typeof window.__marker") == "undefined"

    # Start using the page just after one of its reloads, not during the next one.
    with page.expect_navigation():
        pass
    item = page.locator("#triage li.signal").first
    open_form(item, "Dismiss")
    item.get_by_label("Why does it need no action?").fill("half a thought")
    page.evaluate("window.__marker = 'typing'")
    page.wait_for_timeout(4500)
    assert page.evaluate("window.__marker") == "typing"
    assert item.get_by_label("Why does it need no action?").input_value() == "half a thought"
