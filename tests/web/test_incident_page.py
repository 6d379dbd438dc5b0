"""The incident page and its forms, in a browser."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi import FastAPI
from playwright.sync_api import Locator, Page, expect

from firestop.access.models import Role
from firestop.incidents import people
from firestop.incidents import service as incidents
from firestop.incidents.models import ParticipantRole
from firestop.incidents.schemas import SystemVersion
from tests.web.support import Login, log_in, open_form


def _incident(app: FastAPI) -> str:
    with app.state.sessionmaker() as db:
        incident = incidents.create_incident(
            db,
            policy=app.state.policy,
            actor="amara",
            title="Support assistant refunds after an injected help article",
            categories=["insecure_behaviour"],
            systems=[SystemVersion(system="support-assistant", model_version="2025-09-15")],
            what_happened="A help article told the assistant to refund everyone.",
        )
        people.add_participant(
            db,
            key=incident.key,
            actor="amara",
            role=ParticipantRole.commander,
            person="amara-okafor",
        )
        db.commit()
        return incident.key


def _claim(page: Page, statement: str) -> Locator:
    return page.locator("li.claim").filter(has_text=statement)


@pytest.mark.browser
@pytest.mark.usefixtures("demo")
def test_the_page_shows_facts_severity_people_and_actions(
    page: Page, app: FastAPI, make_user: Callable[[Role], Login]
) -> None:
    key = _incident(app)
    log_in(page, make_user(Role.viewer))
    page.goto(f"/incidents/{key}")
    expect(page.locator("#incident-title")).to_have_text(
        "Support assistant refunds after an injected help article"
    )
    expect(page.locator("#facts")).to_contain_text(
        "A help article told the assistant to refund everyone."
    )
    expect(page.get_by_role("link", name="Customer support assistant")).to_be_visible()
    expect(page.locator("#participants")).to_contain_text("Amara Okafor")
    expect(page.locator("#suggested-actions")).to_contain_text("Suspend the agent")
    # Cause candidates start as hypotheses, and say so.
    hypotheses = page.get_by_role("heading", name="Hypotheses — not established (5)")
    expect(hypotheses).to_be_visible()
    expect(_claim(page, "A malicious actor may be involved.")).to_contain_text("HYPOTHESIS")
    # A reader gets no forms.
    expect(page.locator("main form")).to_have_count(0)


@pytest.mark.browser
@pytest.mark.usefixtures("demo")
def test_status_change_offers_only_the_allowed_next_statuses(
    page: Page, app: FastAPI, make_user: Callable[[Role], Login]
) -> None:
    key = _incident(app)
    log_in(page, make_user(Role.responder))
    page.goto(f"/incidents/{key}")
    open_form(page, "Change status")
    options = page.locator("#status option").all_inner_texts()
    assert options == ["investigating", "closed (reason required)"]
    page.locator("#status").select_option("investigating")
    page.get_by_role("button", name="Change status").click()
    expect(page.get_by_role("status")).to_have_text("The incident status was changed.")
    expect(page.locator("#incident-status")).to_have_text("investigating")
    expect(page.locator("#timeline")).to_contain_text("status.changed")
    open_form(page, "Change status")
    assert page.locator("#status option").all_inner_texts() == ["contained"]


@pytest.mark.browser
@pytest.mark.usefixtures("demo")
def test_severity_from_factors_then_an_override(
    page: Page, app: FastAPI, make_user: Callable[[Role], Login]
) -> None:
    key = _incident(app)
    log_in(page, make_user(Role.responder))
    page.goto(f"/incidents/{key}")
    severity = page.locator("#severity")
    expect(severity).to_contain_text("no factor assessed yet")

    open_form(severity, "Assess severity factors")
    severity.get_by_label("Impact").select_option("major")
    severity.get_by_label("Affected population").select_option("group")
    severity.get_by_role("button", name="Recompute severity").click()
    expect(page.get_by_role("status")).to_have_text("The severity was reassessed.")
    expect(severity.locator(".sev").first).to_have_text("SEV2")
    expect(page.locator("#severity-explanation")).to_contain_text("impact=major sets that floor")
    expect(severity).to_contain_text("Incident team engaged within the hour.")

    open_form(severity, "Override the severity")
    severity.get_by_label("Severity", exact=True).select_option("SEV1")
    severity.get_by_label("Reason").fill("Regulator already asking questions.")
    severity.get_by_role("button", name="Record override").click()
    expect(page.get_by_role("status")).to_have_text("The severity override was recorded.")
    expect(severity.locator(".sev").first).to_have_text("SEV1")
    expect(severity).to_contain_text("Regulator already asking questions.")


@pytest.mark.browser
@pytest.mark.usefixtures("demo")
def test_a_claim_is_supported_with_evidence_then_confirmed_by_a_named_person(
    page: Page, app: FastAPI, make_user: Callable[[Role], Login]
) -> None:
    key = _incident(app)
    log_in(page, make_user(Role.responder))
    page.goto(f"/incidents/{key}")
    statement = "A malicious actor may be involved."

    claim = _claim(page, statement)
    open_form(claim, "Update this claim")
    claim.get_by_label("Status").select_option("supported")
    claim.get_by_label("Add evidence").fill("https://cms.harbourline.example/hc/2231/history")
    claim.get_by_label("Evidence note").fill("revision 14 added the instruction")
    claim.get_by_role("button", name="Update claim").click()
    expect(page.get_by_role("status")).to_have_text("The claim was updated.")
    claim = _claim(page, statement)
    expect(claim).to_contain_text("SUPPORTED")
    expect(claim.get_by_role("link", name="https://cms.harbourline.example/hc/2231/history"))

    open_form(claim, "Update this claim")
    claim.get_by_label("Status").select_option("confirmed")
    claim.get_by_label("Confirmed by").fill("Rahul Mehta")
    claim.get_by_role("button", name="Update claim").click()
    claim = _claim(page, statement)
    expect(claim).to_contain_text("CONFIRMED")
    expect(claim.locator(".confirmer")).to_have_text("Confirmed by Rahul Mehta")
    expect(page.get_by_role("heading", name="Confirmed (1)")).to_be_visible()
    expect(page.locator("#timeline")).to_contain_text("claim.status_changed")


@pytest.mark.browser
@pytest.mark.usefixtures("demo")
def test_confirming_without_evidence_explains_why_not(
    page: Page, app: FastAPI, make_user: Callable[[Role], Login]
) -> None:
    key = _incident(app)
    log_in(page, make_user(Role.responder))
    page.goto(f"/incidents/{key}")
    statement = "Poor data may be involved."
    claim = _claim(page, statement)
    open_form(claim, "Update this claim")
    claim.get_by_label("Status").select_option("supported")
    claim.get_by_role("button", name="Update claim").click()
    claim = _claim(page, statement)
    open_form(claim, "Update this claim")
    claim.get_by_label("Status").select_option("confirmed")
    claim.get_by_role("button", name="Update claim").click()
    expect(page.get_by_role("heading", name="Invalid input (422)")).to_be_visible()
    expect(page.get_by_role("alert")).to_have_text("a claim is confirmed only with evidence")
    expect(page.locator(".problems")).to_contain_text("add at least one evidence reference first")
    page.get_by_role("link", name="Back to the previous page").click()
    expect(_claim(page, statement)).to_contain_text("SUPPORTED")


@pytest.mark.browser
@pytest.mark.usefixtures("demo")
def test_add_a_claim_and_a_participant(
    page: Page, app: FastAPI, make_user: Callable[[Role], Login]
) -> None:
    key = _incident(app)
    specialist = make_user(Role.risk)
    log_in(page, make_user(Role.responder))
    page.goto(f"/incidents/{key}")

    open_form(page, "Add a claim")
    page.get_by_label("Statement").fill("Refunds began at 14:02 UTC.")
    page.locator("#claim-kind").select_option("impact")
    page.get_by_role("button", name="Add claim").click()
    expect(page.get_by_role("status")).to_have_text("The claim was recorded.")
    expect(_claim(page, "Refunds began at 14:02 UTC.")).to_contain_text("HYPOTHESIS")

    open_form(page, "Add a participant")
    page.locator("#participant-role").select_option("risk")
    page.locator("#participant-user").select_option(specialist.username)
    page.get_by_role("button", name="Add participant").click()
    expect(page.get_by_role("status")).to_have_text("The participant was added.")
    expect(page.locator("#participants")).to_contain_text(f"@{specialist.username}")
    expect(page.locator("#participants")).to_contain_text("risk")
