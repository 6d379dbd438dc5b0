"""Incidents: facts, severity, status, people, harm, claims and the timeline."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from firestop.auth import ClaimWriter, IncidentWriter, Reader
from firestop.deps import DB, CurrentPolicy, RowId
from firestop.incidents import claims, people, records, service, views
from firestop.incidents import severity as incident_severity
from firestop.incidents import status as incident_status
from firestop.incidents.models import IncidentStatus
from firestop.incidents.schemas import (
    ClaimIn,
    ClaimOut,
    ClaimStatusIn,
    EvidenceIn,
    EvidenceOut,
    ExternalRefIn,
    FactorsIn,
    HarmAssessmentIn,
    IncidentCreate,
    IncidentDetail,
    IncidentPatch,
    IncidentSummary,
    OverrideIn,
    ParticipantIn,
    RemovalIn,
    StatusIn,
    TimelineEventOut,
)
from firestop.policy.schemas import Sev

router = APIRouter(prefix="/api/v1/incidents", tags=["incidents"])


@router.get("", response_model=list[IncidentSummary])
def list_incidents(
    db: DB,
    _: Reader,
    status: IncidentStatus | None = None,
    severity: Sev | None = None,
    open_only: Annotated[
        bool, Query(alias="open", description="only incidents that are not closed")
    ] = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[IncidentSummary]:
    found = service.list_incidents(
        db, open_only=open_only, status=status, severity=severity, limit=limit, offset=offset
    )
    return [views.incident_summary(i) for i in found]


@router.post("", response_model=IncidentDetail, status_code=status.HTTP_201_CREATED)
def create_incident(
    body: IncidentCreate, db: DB, policy: CurrentPolicy, principal: IncidentWriter
) -> IncidentDetail:
    incident = service.create_incident(
        db,
        policy=policy,
        actor=principal.actor,
        title=body.title,
        categories=body.categories,
        summary=body.summary,
        tags=body.tags,
        what_happened=body.what_happened,
        began_at=body.began_at,
        detected_at=body.detected_at,
        continuing=body.continuing,
        systems=body.systems,
        factors=body.factors,
    )
    db.commit()
    return views.incident_view(db, policy=policy, key=incident.key)


@router.get("/{key}", response_model=IncidentDetail)
def get_incident(key: str, db: DB, policy: CurrentPolicy, _: Reader) -> IncidentDetail:
    return views.incident_view(db, policy=policy, key=key)


@router.patch("/{key}", response_model=IncidentDetail)
def update_incident(
    key: str, body: IncidentPatch, db: DB, policy: CurrentPolicy, principal: IncidentWriter
) -> IncidentDetail:
    service.update_incident(db, policy=policy, key=key, actor=principal.actor, patch=body)
    db.commit()
    return views.incident_view(db, policy=policy, key=key)


@router.post("/{key}/severity", response_model=IncidentDetail)
def set_severity_factors(
    key: str, body: FactorsIn, db: DB, policy: CurrentPolicy, principal: IncidentWriter
) -> IncidentDetail:
    """Set factor levels (null removes one); the severity is recomputed with its reasons."""
    incident_severity.set_severity_factors(
        db, policy=policy, key=key, actor=principal.actor, factors=body.factors, note=body.note
    )
    db.commit()
    return views.incident_view(db, policy=policy, key=key)


@router.post("/{key}/severity/override", response_model=IncidentDetail)
def override_severity(
    key: str, body: OverrideIn, db: DB, policy: CurrentPolicy, principal: IncidentWriter
) -> IncidentDetail:
    """Set the severity by hand (or clear the override with ``level: null``), with a reason."""
    incident_severity.override_severity(
        db, key=key, actor=principal.actor, level=body.level, reason=body.reason
    )
    db.commit()
    return views.incident_view(db, policy=policy, key=key)


@router.post("/{key}/status", response_model=IncidentDetail)
def change_status(
    key: str, body: StatusIn, db: DB, policy: CurrentPolicy, principal: IncidentWriter
) -> IncidentDetail:
    incident_status.change_status(
        db,
        key=key,
        actor=principal.actor,
        status=body.status,
        reason=body.reason,
        outcome=body.outcome,
    )
    db.commit()
    return views.incident_view(db, policy=policy, key=key)


@router.put("/{key}/harm", response_model=IncidentDetail)
def set_harm(
    key: str, body: HarmAssessmentIn, db: DB, policy: CurrentPolicy, principal: IncidentWriter
) -> IncidentDetail:
    service.set_harm(db, policy=policy, key=key, actor=principal.actor, harm=body.dimensions)
    db.commit()
    return views.incident_view(db, policy=policy, key=key)


@router.post("/{key}/participants", response_model=IncidentDetail, status_code=201)
def add_participant(
    key: str, body: ParticipantIn, db: DB, policy: CurrentPolicy, principal: IncidentWriter
) -> IncidentDetail:
    people.add_participant(
        db,
        key=key,
        actor=principal.actor,
        role=body.role,
        username=body.username,
        person=body.person,
        display_name=body.display_name,
    )
    db.commit()
    return views.incident_view(db, policy=policy, key=key)


@router.post("/{key}/participants/{participant_id}/remove", response_model=IncidentDetail)
def remove_participant(
    key: str,
    participant_id: RowId,
    body: RemovalIn,
    db: DB,
    policy: CurrentPolicy,
    principal: IncidentWriter,
) -> IncidentDetail:
    people.remove_participant(
        db, key=key, actor=principal.actor, participant_id=participant_id, reason=body.reason
    )
    db.commit()
    return views.incident_view(db, policy=policy, key=key)


@router.post("/{key}/external-refs", response_model=IncidentDetail, status_code=201)
def add_external_ref(
    key: str, body: ExternalRefIn, db: DB, policy: CurrentPolicy, principal: IncidentWriter
) -> IncidentDetail:
    people.add_external_ref(
        db, key=key, actor=principal.actor, system=body.system, ticket=body.ticket, url=body.url
    )
    db.commit()
    return views.incident_view(db, policy=policy, key=key)


@router.post("/{key}/external-refs/{ref_id}/remove", response_model=IncidentDetail)
def remove_external_ref(
    key: str, ref_id: RowId, db: DB, policy: CurrentPolicy, principal: IncidentWriter
) -> IncidentDetail:
    people.remove_external_ref(db, key=key, actor=principal.actor, ref_id=ref_id)
    db.commit()
    return views.incident_view(db, policy=policy, key=key)


@router.post("/{key}/claims", response_model=ClaimOut, status_code=201)
def add_claim(
    key: str, body: ClaimIn, db: DB, policy: CurrentPolicy, principal: ClaimWriter
) -> ClaimOut:
    """Record a finding, cause or impact; it starts as a hypothesis."""
    claim = claims.add_claim(
        db,
        policy=policy,
        key=key,
        actor=principal.actor,
        statement=body.statement,
        kind=body.kind,
        cause_candidate=body.cause_candidate,
    )
    db.commit()
    return claims.claim_view(claim)


@router.post("/{key}/claims/{claim_id}/status", response_model=ClaimOut)
def change_claim_status(
    key: str, claim_id: RowId, body: ClaimStatusIn, db: DB, principal: ClaimWriter
) -> ClaimOut:
    """Move a claim. Confirming needs evidence and a named confirmer (default: the user)."""
    default_confirmer = principal.name if principal.kind == "user" else None
    claim = claims.change_claim_status(
        db,
        key=key,
        claim_id=claim_id,
        actor=principal.actor,
        status=body.status,
        reason=body.reason,
        confirmed_by=body.confirmed_by or default_confirmer,
    )
    db.commit()
    return claims.claim_view(claim)


@router.post("/{key}/claims/{claim_id}/evidence", response_model=EvidenceOut, status_code=201)
def add_evidence(
    key: str, claim_id: RowId, body: EvidenceIn, db: DB, principal: ClaimWriter
) -> EvidenceOut:
    evidence = claims.add_evidence(
        db, key=key, claim_id=claim_id, actor=principal.actor, ref=body.ref, note=body.note
    )
    db.commit()
    return EvidenceOut.model_validate(evidence)


@router.get("/{key}/timeline", response_model=list[TimelineEventOut])
def timeline(key: str, db: DB, _: Reader) -> list[TimelineEventOut]:
    return [TimelineEventOut.model_validate(e) for e in records.timeline(db, key)]
