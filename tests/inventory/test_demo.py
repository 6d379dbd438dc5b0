"""The demo organisation: what a new user sees first must load and make sense."""

from __future__ import annotations

from sqlalchemy.orm import Session

from firestop.inventory import service
from firestop.inventory.demo import import_demo, load_demo_inventory
from firestop.inventory.models import Criticality, Decision, ResponseRole


def test_demo_loads_and_reloads_harmlessly(db: Session) -> None:
    load_demo_inventory(db)
    db.commit()
    again = import_demo(db)
    assert again.created == 0 and again.updated == 0


def test_demo_is_a_believable_organisation(db: Session) -> None:
    load_demo_inventory(db)
    systems = {s.slug: s for s in service.list_systems(db)}
    assert len(systems) >= 4
    assert {s.criticality for s in systems.values()} == set(Criticality)
    agent = systems["support-assistant"]
    refund = agent.tool("issue_refund")
    assert refund is not None and refund.destructive
    assert {t.kind for t in agent.tools} == {"tool", "connector"}
    assert systems["claims-triage"].criticality == "critical"
    assert systems["cv-screener"].criticality == "high"
    assert systems["code-assistant"].criticality in ("low", "medium")
    for system in systems.values():
        assert system.owner is not None, system.slug
        assert system.approved_models, system.slug
        assert system.fallback_what_stops and system.fallback_capacity, system.slug
        assert system.risk_assessment_id, system.slug
        assert system.vendors, system.slug

    vendors = service.list_vendors(db)
    assert all(v.contacts and v.escalation_route for v in vendors)
    assert all(v.notify_within_hours is not None for v in vendors)

    commanders = service.responders(db, system_slug=None, role=ResponseRole.incident_commander)
    assert commanders

    decisions = {r.decision for r in service.list_rules(db)}
    assert decisions == set(Decision)
    covered = {r.action for r in service.list_rules(db)}
    for action in (
        "suspend_agent",
        "remove_connector",
        "switch_to_manual",
        "narrow_permissions",
        "rollback_version",
        "block_sensitive_inputs",
    ):
        assert action in covered


def test_demo_authority_reflects_criticality(db: Session) -> None:
    load_demo_inventory(db)

    def decision(system: str, action: str) -> Decision:
        return service.authority_for(db, system_slug=system, action_id=action).decision

    assert decision("code-assistant", "suspend_agent") == Decision.pre_authorized
    assert decision("support-assistant", "suspend_agent") == Decision.needs_approval
    assert decision("claims-triage", "suspend_agent") == Decision.forbidden
    switch = service.authority_for(db, system_slug="claims-triage", action_id="switch_to_manual")
    assert switch.decision == Decision.needs_approval
    assert set(switch.approvers) == {"business_lead", "risk"}
