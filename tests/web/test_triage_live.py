"""The live triage queue, in a real browser: signals that arrive after the page loaded
appear, counts change in place, filters hold, and hostile titles stay text."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from fastapi import FastAPI
from playwright.sync_api import Page, expect

from firestop.access.models import Role
from firestop.signals import service as signals
from firestop.signals.models import SignalSource
from firestop.signals.pipeline import Hit, fingerprint_of, raise_hit
from firestop.web import pages_triage
from tests.web.support import HOSTILE_TEXT, Login, assert_inert, log_in, open_form

# Generous: the page polls every second here, but a loaded test machine can be slow.
ARRIVAL_MS = 20_000


@pytest.fixture(autouse=True)
def _fast_polling(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pages_triage, "POLL_SECONDS", 1)


def _hit(title: str, *, detector: str = "alert", severity: str | None = None) -> Hit:
    return Hit(
        source=SignalSource.alert,
        title=title,
        fingerprint=fingerprint_of(SignalSource.alert, detector, title),
        detector=detector,
        rule=f"{detector}.rule",
        severity=severity,
    )


def _raise(app: FastAPI, hit: Hit, now: datetime | None = None) -> int:
    with app.state.sessionmaker() as db:
        signal_id = raise_hit(db, policy=app.state.policy, hit=hit, now=now).signal.id
        db.commit()
    return signal_id


def _loaded(page: Page) -> None:
    """Mark the document: the mark survives only as long as the page is not reloaded."""
    page.evaluate("() => { document.documentElement.dataset.loadMark = 'same-page'; }")


def _not_reloaded(page: Page) -> None:
    assert page.evaluate("() => document.documentElement.dataset.loadMark") == "same-page"


@pytest.mark.browser
def test_a_new_signal_appears_and_its_count_changes_without_a_reload(
    page: Page, app: FastAPI, make_user: Callable[[Role], Login]
) -> None:
    existing = _raise(app, _hit("Disk nearly full"))
    log_in(page, make_user(Role.viewer), next_path="/triage")
    page.goto("/triage")
    rows = page.locator("#queue tbody tr")
    expect(rows).to_have_count(1)
    expect(page.locator(f"#signal-{existing}")).to_be_visible()
    _loaded(page)

    arrived = _raise(app, _hit(HOSTILE_TEXT, detector="pii", severity="SEV2"))
    row = page.locator(f"#signal-{arrived}")
    expect(row).to_be_visible(timeout=ARRIVAL_MS)
    expect(rows).to_have_count(2)
    expect(rows.first).to_have_id(f"signal-{arrived}")  # newest first, as the server orders
    expect(row.locator('td[data-cell="title"] a')).to_have_text(HOSTILE_TEXT)
    expect(row.locator('td[data-cell="title"] a')).to_have_attribute("href", f"/signals/{arrived}")
    expect(row.locator('td[data-cell="detector"]')).to_have_text("pii")
    expect(row.locator('td[data-cell="rule"]')).to_have_text("pii.rule")
    expect(row.locator('td[data-cell="hint"] .sev-SEV2')).to_have_text("SEV2")
    expect(row.locator('td[data-cell="occurrences"]')).to_have_text("1")
    expect(row.locator('td[data-cell="state"]')).to_have_text("new")
    assert_inert(page, HOSTILE_TEXT)

    # The same problem again: the count changes in place.
    _raise(app, _hit(HOSTILE_TEXT, detector="pii"))
    expect(row.locator('td[data-cell="occurrences"]')).to_have_text("2", timeout=ARRIVAL_MS)
    expect(rows).to_have_count(2)
    _not_reloaded(page)
    assert_inert(page, HOSTILE_TEXT)


@pytest.mark.browser
def test_escalation_snoozes_and_decisions_show_live(
    page: Page, app: FastAPI, make_user: Callable[[Role], Login]
) -> None:
    escalating = _raise(app, _hit("Timeouts"))
    snoozed = _raise(app, _hit("Flapping check"))
    log_in(page, make_user(Role.viewer), next_path="/triage")
    page.goto("/triage")
    expect(page.locator("#queue tbody tr")).to_have_count(2)
    _loaded(page)

    with app.state.sessionmaker() as db:
        signals.get_signal(db, escalating).escalated = True
        signals.snooze_signal(db, signal_id=snoozed, actor="ana", reason="known", minutes=60)
        db.commit()
    state = page.locator(f"#signal-{escalating} td[data-cell='state']")
    expect(state.locator(".escalated")).to_have_text("escalated", timeout=ARRIVAL_MS)
    # Snoozed elsewhere: it left this view, and says so rather than vanishing mid-read.
    expect(page.locator(f"#signal-{snoozed}")).to_have_class("gone", timeout=ARRIVAL_MS)
    _not_reloaded(page)

    # The snoozed-only view shows it with its badge.
    page.get_by_label("Snoozed only").check()
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("#queue tbody tr")).to_have_count(1)
    expect(page.locator(f"#signal-{snoozed} .snoozed")).to_have_text("snoozed")


@pytest.mark.browser
def test_filters_hold_for_live_updates(
    page: Page, app: FastAPI, make_user: Callable[[Role], Login]
) -> None:
    _raise(app, _hit("from pii", detector="pii"))
    _raise(app, _hit("from alert"))
    log_in(page, make_user(Role.viewer), next_path="/triage")
    page.goto("/triage")
    page.get_by_label("Detector").select_option("pii")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url("/triage?status=new&detector=pii&system=")
    expect(page.locator("#queue tbody tr")).to_have_count(1)
    _loaded(page)

    other = _raise(app, _hit("another alert"))
    wanted = _raise(app, _hit("another pii", detector="pii"))
    expect(page.locator(f"#signal-{wanted}")).to_be_visible(timeout=ARRIVAL_MS)
    expect(page.locator("#queue tbody tr")).to_have_count(2)
    expect(page.locator(f"#signal-{other}")).to_have_count(0)
    _not_reloaded(page)


@pytest.mark.browser
def test_snooze_from_the_signal_page(
    page: Page, app: FastAPI, make_user: Callable[[Role], Login]
) -> None:
    signal_id = _raise(app, _hit("Noisy but understood"), datetime.now(UTC) - timedelta(hours=2))
    log_in(page, make_user(Role.responder), next_path="/triage")
    page.goto(f"/signals/{signal_id}")
    open_form(page, "Snooze")
    page.get_by_label("For how long").select_option(label="1 day")
    page.get_by_role("button", name="Snooze signal").click()
    expect(page).to_have_url(f"/signals/{signal_id}")  # the browser insists on a reason
    page.get_by_label("Why is it safe to look away?").fill("A nightly job; <b>fixed</b> soon.")
    page.get_by_role("button", name="Snooze signal").click()
    expect(page.get_by_role("status")).to_contain_text("The signal was snoozed")
    expect(page.locator("#signal-snooze")).to_contain_text("snoozed until")
    expect(page.locator("#snooze-reason")).to_have_text("A nightly job; <b>fixed</b> soon.")

    # A later signal with the same fingerprint is snoozed too; the queue shows neither.
    later = _raise(app, _hit("Noisy but understood"))
    assert later != signal_id
    page.goto("/triage")
    expect(page.locator("#queue tbody tr")).to_have_count(0)
    expect(page.locator("#queue-empty")).to_be_visible()

    page.goto(f"/signals/{later}")
    page.get_by_role("button", name="Lift the snooze").click()
    expect(page.get_by_role("status")).to_have_text("The snooze was lifted.")
    page.goto("/triage")
    expect(page.locator("#queue tbody tr")).to_have_count(2)
