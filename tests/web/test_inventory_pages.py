"""The inventory pages show the demo organisation, in a browser."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from firestop.access.models import Role
from tests.web.support import Login, log_in

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("demo")]


def test_systems_list(page: Page, make_user: Callable[[Role], Login]) -> None:
    log_in(page, make_user(Role.viewer), next_path="/inventory")
    rows = page.locator("main tbody tr")
    expect(rows).to_have_count(5)
    claims = rows.filter(has_text="Motor claims triage")
    expect(claims).to_contain_text("critical")
    expect(claims).to_contain_text("Tomás Silva")
    expect(claims).to_contain_text("4.3.0-rc2")
    expect(claims).to_contain_text("not approved")
    expect(claims).to_contain_text("Stratus Cloud")


def test_system_detail(page: Page, make_user: Callable[[Role], Login]) -> None:
    log_in(page, make_user(Role.viewer), next_path="/inventory")
    page.get_by_role("link", name="Customer support assistant").click()
    expect(page).to_have_url("/inventory/systems/support-assistant")
    main = page.locator("main")
    expect(main.get_by_role("heading", name="Customer support assistant")).to_be_visible()
    tools = main.get_by_role("row", name="issue_refund tool destructive")
    expect(tools).to_contain_text("destructive")
    expect(main.locator("tr").filter(has_text="relay_crm")).to_contain_text("connector")
    expect(main.locator("tr").filter(has_text="CRM contact history")).to_contain_text(
        "confidential"
    )
    expect(main).to_contain_text("Refund overpaid premiums within the £250 limit.")
    expect(main).to_contain_text("Give legal, medical or financial advice.")
    expect(main).to_contain_text("35 % of current chat volume within 15 minutes")
    expect(main.get_by_role("link", name="RA-2025-012")).to_be_visible()
    expect(main.locator("tr").filter(has_text="Rahul Mehta")).to_contain_text("model specialist")
    expect(main.locator("tr").filter(has_text="Sofia Rossi")).to_contain_text("organisation-wide")

    authority = page.locator("#authority")
    connector = authority.locator("tr").filter(has_text="Remove a connector")
    expect(connector).to_contain_text("pre authorized")
    expect(connector).to_contain_text("this system")
    expect(connector).to_contain_text("Chat keeps working without Relay CRM")
    suspend = authority.locator("tr").filter(has_text="Suspend the agent")
    expect(suspend).to_contain_text("needs approval")
    expect(suspend).to_contain_text("high tier")
    expect(suspend).to_contain_text("business lead")


def test_a_forbidden_action_and_the_default(page: Page, make_user: Callable[[Role], Login]) -> None:
    log_in(page, make_user(Role.viewer), next_path="/inventory/systems/claims-triage")
    authority = page.locator("#authority")
    expect(authority.locator("tr").filter(has_text="Suspend the agent")).to_contain_text(
        "forbidden"
    )
    page.goto("/inventory/systems/code-assistant")
    # No rule covers quarantining outputs of a low-tier system: the commander decides.
    quarantine = page.locator("#authority tr").filter(has_text="Quarantine outputs")
    expect(quarantine).to_contain_text("needs approval")
    expect(quarantine).to_contain_text("default")


def test_vendors_and_people(page: Page, make_user: Callable[[Role], Login]) -> None:
    log_in(page, make_user(Role.viewer), next_path="/inventory/vendors")
    nimbus = page.locator("#vendor-nimbus-ai")
    expect(nimbus).to_contain_text("24 hours")
    expect(nimbus).to_contain_text("Open a Severity 1 case in the Nimbus enterprise console")
    expect(nimbus).to_contain_text("Priya Raman")
    expect(nimbus.get_by_role("link", name="Staff knowledge search")).to_be_visible()

    page.get_by_role("link", name="People and teams").click()
    amara = page.locator("#person-amara-okafor")
    expect(amara).to_contain_text("Head of Security Operations")
    expect(amara).to_contain_text("incident commander — organisation-wide")
    expect(page.locator("main")).to_contain_text("Corporate Communications")


def test_an_unknown_system_is_a_readable_404(
    page: Page, make_user: Callable[[Role], Login]
) -> None:
    log_in(page, make_user(Role.viewer), next_path="/inventory/systems/nope")
    expect(page.get_by_role("heading", name="Not found (404)")).to_be_visible()
    expect(page.get_by_role("alert")).to_have_text("no system 'nope' in the inventory")
