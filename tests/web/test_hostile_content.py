"""Markup from reporters and AI systems stays text on every page that shows it.

The pages' Content-Security-Policy would block an injected script anyway, so these tests
do not rely on ``window.__pwned`` alone: they also require the markup to be visible as
literal text, and no injected element or event handler to exist in the DOM (see
``assert_inert``). Each would fail if a template stopped escaping.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from firestop.access.models import Role
from tests.web.support import (
    ATTRIBUTE_PAYLOAD,
    HOSTILE_TEXT,
    SCRIPT_PAYLOAD,
    Login,
    assert_inert,
    log_in,
    open_form,
)

TITLE_PAYLOAD = '<b onmouseover="window.__pwned=3">Refunds</b><script>window.__pwned=4</script>'


@pytest.mark.browser
def test_a_hostile_report_stays_text_from_intake_to_incident(
    page: Page, make_user: Callable[[Role], Login]
) -> None:
    responder = make_user(Role.responder)

    # A member of the public reports it, with markup in every field.
    page.goto("/report")
    page.get_by_label("What happened?").fill(HOSTILE_TEXT)
    page.get_by_label("Which AI system?").fill(ATTRIBUTE_PAYLOAD)
    page.get_by_label("How can we reach you?").fill(SCRIPT_PAYLOAD)
    page.get_by_role("button", name="Send report").click()
    expect(page.get_by_role("heading", name="Thank you — your report was received")).to_be_visible()
    assert_inert(page, SCRIPT_PAYLOAD, ATTRIBUTE_PAYLOAD)
    expect(page.locator("#sent-text")).to_have_text(HOSTILE_TEXT)
    reference = page.locator("#reference").inner_text()

    # The status page shows the status only, not what was written.
    page.locator("#status-link").click()
    expect(page).to_have_url(f"/report/{reference}")
    expect(page.locator("#report-status")).to_have_text("received")
    assert_inert(page)
    expect(page.get_by_text("__pwned")).to_have_count(0)

    # A responder sees it in the triage queue, as text.
    log_in(page, responder)
    queued = page.locator("li.signal").filter(has_text="The assistant replied")
    expect(queued).to_have_count(1)
    assert_inert(page, SCRIPT_PAYLOAD, ATTRIBUTE_PAYLOAD)

    # Accepting it opens an incident whose title is markup too.
    open_form(queued, "Accept into a new incident")
    queued.get_by_label("Incident title").fill(TITLE_PAYLOAD)
    queued.get_by_label("Harmful, biased or misleading output").check()
    queued.get_by_role("button", name="Open incident").click()
    expect(page).to_have_url(re.compile(r"/incidents/AI-\d{4}-\d{4}\?done=accepted"))
    expect(page.locator("#incident-title")).to_have_text(TITLE_PAYLOAD)
    assert_inert(page, TITLE_PAYLOAD, SCRIPT_PAYLOAD, ATTRIBUTE_PAYLOAD)
    # The timeline shows the same values as text, the signal's acceptance included.
    timeline = page.locator("#timeline")
    expect(timeline).to_contain_text(TITLE_PAYLOAD)
    expect(timeline).to_contain_text("signal.accepted")

    for listing in ("/", "/incidents"):
        page.goto(listing)
        assert_inert(page, TITLE_PAYLOAD)
