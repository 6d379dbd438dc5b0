"""Claims (T3): statements about an incident, moved from hypothesis to confirmed on evidence.

Every claim starts as a hypothesis; confirming one needs evidence and a named person (see
:mod:`firestop.incidents.rules`). Each change appends a timeline event; nothing here commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from firestop.db import utcnow
from firestop.errors import FieldError, conflict, invalid, not_found
from firestop.incidents import rules
from firestop.incidents.models import Claim, ClaimKind, ClaimStatus, EvidenceRef, Incident
from firestop.incidents.records import locked, record_event, required
from firestop.incidents.schemas import ClaimOut, EvidenceOut
from firestop.policy.schemas import Policy


def add_claim(
    db: Session,
    *,
    policy: Policy,
    key: str,
    actor: str,
    statement: str,
    kind: ClaimKind = ClaimKind.finding,
    cause_candidate: str | None = None,
) -> Claim:
    """Record a claim; every claim starts as a hypothesis."""
    statement = required(statement, "statement")
    if cause_candidate is not None:
        known = [c.id for c in policy.taxonomy.cause_candidates]
        if kind != ClaimKind.cause:
            raise invalid(
                "only a cause names a cause candidate",
                [FieldError("cause_candidate", "set kind to cause, or leave this out")],
            )
        if cause_candidate not in known:
            raise invalid(
                "unknown cause candidate",
                [FieldError("cause_candidate", f"use one of {', '.join(known)}")],
            )
    incident = locked(db, key)
    return new_claim(
        db,
        incident,
        actor=actor,
        statement=statement,
        kind=kind,
        cause_candidate=cause_candidate,
    )


def new_claim(
    db: Session,
    incident: Incident,
    *,
    actor: str,
    statement: str,
    kind: ClaimKind,
    cause_candidate: str | None,
) -> Claim:
    """Add a hypothesis to an incident the caller has locked."""
    return new_claims(db, incident, actor=actor, claims=[(statement, kind, cause_candidate)])[0]


def new_claims(
    db: Session,
    incident: Incident,
    *,
    actor: str,
    claims: Sequence[tuple[str, ClaimKind, str | None]],
) -> list[Claim]:
    """Add hypotheses (statement, kind, cause candidate) with one flush for all of them;
    opening an incident adds one per cause candidate of the taxonomy."""
    added = [
        Claim(
            incident=incident,
            statement=statement,
            kind=kind.value,
            cause_candidate=cause_candidate,
            status=ClaimStatus.hypothesis.value,
            created_by=actor,
        )
        for statement, kind, cause_candidate in claims
    ]
    db.add_all(added)
    db.flush()  # the events name the claims by id
    for claim in added:
        record_event(
            db,
            incident,
            actor=actor,
            kind="claim.added",
            entity_type="claim",
            entity_id=claim.id,
            after={
                "statement": claim.statement,
                "kind": claim.kind,
                "cause_candidate": claim.cause_candidate,
                "status": claim.status,
            },
        )
    return added


def _claim(db: Session, incident: Incident, claim_id: int) -> Claim:
    claim = db.scalar(
        select(Claim)
        .where(Claim.id == claim_id, Claim.incident_id == incident.id)
        .options(selectinload(Claim.evidence))
    )
    if claim is None:
        raise not_found(f"{incident.key} has no claim {claim_id}")
    return claim


def change_claim_status(
    db: Session,
    *,
    key: str,
    claim_id: int,
    actor: str,
    status: ClaimStatus,
    reason: str | None = None,
    confirmed_by: str | None = None,
) -> Claim:
    """Move a claim; see :mod:`firestop.incidents.rules`.

    Confirming needs at least one evidence reference and ``confirmed_by``, the name of the
    person who confirms; ``actor`` is kept too, as the account that recorded it.
    """
    incident = locked(db, key)
    claim = _claim(db, incident, claim_id)
    current = ClaimStatus(claim.status)
    allowed = rules.CLAIM_NEXT[current]
    if status not in allowed:
        raise conflict(
            f"claim {claim.id} cannot move from {current} to {status}; "
            f"allowed next: {', '.join(allowed)}"
        )
    reason = (reason or "").strip() or None
    if (current, status) in rules.CLAIM_NEEDS_REASON and reason is None:
        raise invalid(
            f"moving a claim from {current} to {status} needs a reason",
            [FieldError("reason", "a reason is required")],
        )
    if status == ClaimStatus.confirmed:
        if not claim.evidence:
            raise invalid(
                "a claim is confirmed only with evidence",
                [FieldError("status", "add at least one evidence reference first")],
            )
        confirmed_by = required(
            confirmed_by or "", "confirmed_by", "name the person who confirms the claim"
        )
    before = {"status": current.value}
    claim.status = status.value
    claim.updated_at = utcnow()
    if status == ClaimStatus.confirmed:
        claim.confirmed_by = confirmed_by
        claim.confirmed_by_actor = actor
        claim.confirmed_at = claim.updated_at
    elif current == ClaimStatus.confirmed:
        claim.confirmed_by = claim.confirmed_by_actor = claim.confirmed_at = None
    after: dict[str, Any] = {"status": status.value}
    if status == ClaimStatus.confirmed:
        after["confirmed_by"] = confirmed_by
    record_event(
        db,
        incident,
        actor=actor,
        kind="claim.status_changed",
        entity_type="claim",
        entity_id=claim.id,
        before=before,
        after=after,
        note=reason,
    )
    return claim


def add_evidence(
    db: Session, *, key: str, claim_id: int, actor: str, ref: str, note: str = ""
) -> EvidenceRef:
    """Attach an evidence reference (free text or URL) to a claim; it cannot be removed."""
    ref = required(ref, "ref")
    incident = locked(db, key)
    claim = _claim(db, incident, claim_id)
    evidence = EvidenceRef(claim=claim, ref=ref, note=note.strip(), added_by=actor)
    db.add(evidence)
    db.flush()
    record_event(
        db,
        incident,
        actor=actor,
        kind="evidence.added",
        entity_type="claim",
        entity_id=claim.id,
        after={"evidence": evidence.id, "ref": ref, "note": evidence.note},
    )
    return evidence


# --- views ----------------------------------------------------------------------------------


def claim_view(claim: Claim) -> ClaimOut:
    return ClaimOut(
        id=claim.id,
        statement=claim.statement,
        kind=ClaimKind(claim.kind),
        cause_candidate=claim.cause_candidate,
        status=ClaimStatus(claim.status),
        created_at=claim.created_at,
        created_by=claim.created_by,
        updated_at=claim.updated_at,
        confirmed_by=claim.confirmed_by,
        confirmed_by_actor=claim.confirmed_by_actor,
        confirmed_at=claim.confirmed_at,
        evidence=[EvidenceOut.model_validate(e) for e in claim.evidence],
        allowed_transitions=list(rules.CLAIM_NEXT[ClaimStatus(claim.status)]),
    )
