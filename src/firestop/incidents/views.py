"""The incident as shown: a summary for lists and the full detail for its page and the API.

Read-only: nothing here changes or commits anything.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from firestop.errors import not_found
from firestop.incidents.claims import claim_view
from firestop.incidents.models import (
    Claim,
    Incident,
    IncidentStatus,
    IncidentSystem,
    Participant,
    ParticipantRole,
)
from firestop.incidents.people import participant_view
from firestop.incidents.schemas import (
    AffectedSystemOut,
    ExternalRefOut,
    HarmOut,
    IncidentDetail,
    IncidentSummary,
    LabelledOut,
    SeverityOut,
)
from firestop.incidents.status import allowed_transitions
from firestop.policy.schemas import Policy, Sev
from firestop.policy.service import SeverityAssessment, suggested_actions


def _commander(participants: Iterable[Participant]) -> Participant | None:
    return next(
        (p for p in participants if p.active and p.role == ParticipantRole.commander.value), None
    )


def incident_summary(incident: Incident) -> IncidentSummary:
    commander = _commander(incident.participants)
    return IncidentSummary(
        key=incident.key,
        title=incident.title,
        status=IncidentStatus(incident.status),
        outcome=incident.outcome,
        severity=Sev(incident.severity) if incident.severity else None,
        severity_overridden=incident.severity_override is not None,
        categories=list(incident.categories),
        commander=commander.display_name if commander else None,
        detected_at=incident.detected_at,
        created_at=incident.created_at,
        updated_at=incident.updated_at,
    )


def incident_view(db: Session, *, policy: Policy, key: str) -> IncidentDetail:
    """Everything the incident page shows, in one shape for the API and the pages."""
    incident = db.scalar(
        select(Incident)
        .where(Incident.key == key.upper())
        .options(
            selectinload(Incident.systems).selectinload(IncidentSystem.system),
            selectinload(Incident.participants).selectinload(Participant.person),
            selectinload(Incident.external_refs),
            selectinload(Incident.claims).selectinload(Claim.evidence),
        )
        .execution_options(populate_existing=True)
    )
    if incident is None:
        raise not_found(f"no incident {key!r}")
    commander = _commander(incident.participants)
    labels = {c.id: c.label for c in policy.taxonomy.categories}
    return IncidentDetail.model_validate(
        {
            **{name: getattr(incident, name) for name in _DIRECT_FIELDS},
            "allowed_transitions": allowed_transitions(incident),
            "categories": [LabelledOut(id=c, label=labels.get(c, c)) for c in incident.categories],
            "systems": [
                AffectedSystemOut(
                    system=link.system.slug,
                    name=link.system.name,
                    criticality=link.system.criticality,
                    model_version=link.model_version,
                    application_version=link.application_version,
                )
                for link in incident.systems
            ],
            "harm": [
                HarmOut(
                    dimension=d.id,
                    label=d.label,
                    level=incident.harm.get(d.id, {}).get("level"),
                    note=incident.harm.get(d.id, {}).get("note", ""),
                )
                for d in policy.taxonomy.harm_dimensions
            ],
            "severity": _severity_view(policy, incident),
            "commander": participant_view(commander) if commander else None,
            "participants": [participant_view(p) for p in incident.participants],
            "external_refs": [ExternalRefOut.model_validate(r) for r in incident.external_refs],
            "claims": [claim_view(c) for c in incident.claims],
            "suggested_actions": suggested_actions(policy, list(incident.categories)),
        }
    )


_DIRECT_FIELDS = (
    "key",
    "title",
    "summary",
    "status",
    "outcome",
    "closure_reason",
    "tags",
    "what_happened",
    "began_at",
    "detected_at",
    "affected_people",
    "affected_people_basis",
    "affected_decisions",
    "affected_decisions_basis",
    "continuing",
    "acknowledged_at",
    "contained_at",
    "recovering_at",
    "monitoring_at",
    "closed_at",
    "created_at",
    "created_by",
    "updated_at",
)


def _severity_view(policy: Policy, incident: Incident) -> SeverityOut:
    effective = Sev(incident.severity) if incident.severity else None
    rule = policy.severity.routing[effective] if effective else None
    return SeverityOut(
        level=effective,
        computed=Sev(incident.computed_severity) if incident.computed_severity else None,
        override=Sev(incident.severity_override) if incident.severity_override else None,
        override_reason=incident.severity_override_reason,
        override_by=incident.severity_override_by,
        override_at=incident.severity_override_at,
        factors=dict(incident.severity_factors),
        assessment=(
            SeverityAssessment.model_validate(incident.severity_assessment)
            if incident.severity_assessment
            else None
        ),
        route=rule.route if rule else None,
        route_note=rule.note if rule else "",
    )
