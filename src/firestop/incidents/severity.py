"""An incident's severity: factor levels scored by the policy's rubric, and hand overrides.

Every recomputation and every override (set or cleared) is a timeline event carrying the
levels and reasons before and after. Functions take a session and never commit.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from firestop.db import utcnow
from firestop.errors import conflict
from firestop.incidents.models import Incident
from firestop.incidents.records import locked, record_event, required
from firestop.policy.schemas import Policy, Sev
from firestop.policy.service import assess_severity


def set_severity_factors(
    db: Session,
    *,
    policy: Policy,
    key: str,
    actor: str,
    factors: Mapping[str, str | None],
    note: str | None = None,
) -> Incident:
    """Set (or, with ``None``, remove) factor levels and recompute the severity."""
    incident = locked(db, key)
    merged = dict(incident.severity_factors)
    for factor, level in factors.items():
        if level is None:
            merged.pop(factor, None)
        else:
            merged[factor] = level
    if merged != incident.severity_factors:
        apply_factors(db, policy, incident, merged, actor=actor, note=note)
    return incident


def apply_factors(
    db: Session,
    policy: Policy,
    incident: Incident,
    factors: dict[str, str],
    *,
    actor: str,
    note: str | None = None,
) -> None:
    """Recompute from ``factors`` and put the before/after levels and reasons on the timeline."""
    assessment = assess_severity(policy, factors) if factors else None
    before = _severity_state(incident)
    incident.severity_factors = factors
    incident.computed_severity = assessment.level.value if assessment else None
    incident.severity_assessment = assessment.model_dump(mode="json") if assessment else None
    record_event(
        db,
        incident,
        actor=actor,
        kind="severity.recomputed",
        before=before,
        after=_severity_state(incident),
        note=note,
    )


def _severity_state(incident: Incident) -> dict[str, Any]:
    assessment = incident.severity_assessment or {}
    return {
        "level": incident.computed_severity,
        "effective": incident.severity,
        "score": assessment.get("score"),
        "drivers": assessment.get("drivers", []),
        "explanation": assessment.get("explanation"),
        "factors": dict(incident.severity_factors),
        "policy_version": assessment.get("policy_version"),
    }


def override_severity(
    db: Session, *, key: str, actor: str, level: Sev | None, reason: str
) -> Incident:
    """Set the severity by hand, or clear the override (``level=None``); both need a reason."""
    reason = required(reason, "reason", "a written reason is required")
    incident = locked(db, key)
    if level is None and incident.severity_override is None:
        raise conflict(f"the severity of {incident.key} is not overridden")
    before = _override_state(incident)
    incident.severity_override = level.value if level else None
    incident.severity_override_reason = reason if level else None
    incident.severity_override_by = actor if level else None
    incident.severity_override_at = utcnow() if level else None
    record_event(
        db,
        incident,
        actor=actor,
        kind="severity.overridden" if level else "severity.override_cleared",
        before=before,
        after=_override_state(incident),
        note=reason,
    )
    return incident


def _override_state(incident: Incident) -> dict[str, Any]:
    return {
        "override": incident.severity_override,
        "reason": incident.severity_override_reason,
        "effective": incident.severity,
    }
