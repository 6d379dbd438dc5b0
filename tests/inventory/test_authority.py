"""The authority matrix: a system's own rule, then its tier's, then needs-approval."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from firestop.errors import FirestopError
from firestop.inventory import service
from firestop.inventory.models import Criticality, Decision, ResponseRole
from firestop.inventory.schemas import AuthorityRuleIn, SystemIn
from firestop.policy.service import load_policy
from tests.inventory.samples import SMALL

POLICY = load_policy(None)


@pytest.fixture
def small(db: Session) -> Session:
    service.import_document(
        db, content=SMALL.encode(), filename=None, content_type=None, policy=POLICY
    )
    return db


def test_system_rule_wins_over_its_tier(small: Session) -> None:
    found = service.authority_for(small, system_slug="support-bot", action_id="suspend_agent")
    assert found.decision == Decision.pre_authorized
    assert found.source == "system"
    assert found.rule is not None and found.rule.system is not None
    assert found.invokers == ("incident_commander", "security")
    assert found.allows({"security"}) and not found.allows({"legal"})


def test_tier_rule_applies_when_the_system_has_none(small: Session) -> None:
    service.create_system(
        small, entry=SystemIn(slug="other", name="O", criticality=Criticality.high)
    )
    found = service.authority_for(small, system_slug="other", action_id="suspend_agent")
    assert (found.decision, found.source) == (Decision.needs_approval, "criticality")
    assert found.approvers == ("business_lead",)


def test_forbidden_allows_nobody(small: Session) -> None:
    found = service.authority_for(small, system_slug="coder", action_id="switch_to_manual")
    assert found.decision == Decision.forbidden
    assert found.note == "Nothing to switch to"
    assert not found.allows({"incident_commander", "admin"})


def test_without_a_rule_the_incident_commander_must_approve(small: Session) -> None:
    found = service.authority_for(small, system_slug="coder", action_id="suspend_agent")
    assert found.source == "default" and found.rule is None
    assert found.decision == Decision.needs_approval
    assert found.approvers == ("incident_commander",)
    assert found.out().model_dump()["rule_id"] is None


def test_changing_criticality_changes_the_answer(small: Session) -> None:
    coder = service.get_system(small, "coder")
    coder.criticality = "high"
    small.flush()
    found = service.authority_for(small, system_slug="coder", action_id="suspend_agent")
    assert found.source == "criticality" and found.decision == Decision.needs_approval


def test_unknown_system_is_not_found(small: Session) -> None:
    with pytest.raises(FirestopError) as caught:
        service.authority_for(small, system_slug="ghost", action_id="suspend_agent")
    assert caught.value.status == 404


def test_rule_consistency_is_checked() -> None:
    base = {"action": "suspend_agent", "criticality": "high"}
    with pytest.raises(ValueError, match="approver"):
        AuthorityRuleIn.model_validate({**base, "decision": "needs_approval"})
    with pytest.raises(ValueError, match="invoke"):
        AuthorityRuleIn.model_validate({**base, "decision": "pre_authorized"})
    with pytest.raises(ValueError, match="no invokers"):
        AuthorityRuleIn.model_validate({**base, "decision": "forbidden", "invokers": ["admin"]})
    with pytest.raises(ValueError, match="only to a needs_approval"):
        AuthorityRuleIn.model_validate(
            {**base, "decision": "forbidden", "approvers": ["business_lead"]}
        )
    with pytest.raises(ValueError, match="more than once"):
        AuthorityRuleIn.model_validate(
            {**base, "decision": "pre_authorized", "invokers": ["admin", "admin"]}
        )
    rule = AuthorityRuleIn.model_validate(
        {**base, "decision": "pre_authorized", "invokers": ["responder", "product_owner"]}
    )
    assert rule.scope == "criticality high"


def test_responders_fall_back_to_the_organisation(small: Session) -> None:
    owner = service.responders(small, system_slug="support-bot", role=ResponseRole.product_owner)
    assert [p.slug for p in owner] == ["lena"]
    commander = service.responders(
        small, system_slug="support-bot", role=ResponseRole.incident_commander
    )
    assert [p.slug for p in commander] == ["amara"]
    assert service.responders(small, system_slug="coder", role=ResponseRole.legal) == []


def test_every_action_at_once_matches_one_at_a_time(small: Session) -> None:
    actions = [a.id for a in POLICY.actions]
    for system in ("support-bot", "coder"):
        together = service.authorities(small, system_slug=system, action_ids=actions)
        assert [a.action for a in together] == actions
        for found in together:
            alone = service.authority_for(small, system_slug=system, action_id=found.action)
            assert (found.decision, found.source, found.rule) == (
                alone.decision,
                alone.source,
                alone.rule,
            )
    sources = {
        a.source
        for system in ("support-bot", "coder")
        for a in service.authorities(small, system_slug=system, action_ids=actions)
    }
    assert sources == {"system", "criticality", "default"}
