"""An incident's status: moving it along its lifecycle (see :mod:`firestop.incidents.rules`).

Each change stamps when the incident first entered the new status and is a timeline event.
Functions take a session and never commit.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from firestop.db import utcnow
from firestop.errors import FieldError, conflict, invalid
from firestop.incidents import rules
from firestop.incidents.models import Incident, IncidentStatus
from firestop.incidents.records import locked, record_event

_ENTERED_AT = {
    IncidentStatus.investigating: "acknowledged_at",
    IncidentStatus.contained: "contained_at",
    IncidentStatus.recovering: "recovering_at",
    IncidentStatus.monitoring: "monitoring_at",
    IncidentStatus.closed: "closed_at",
}


def allowed_transitions(incident: Incident) -> list[IncidentStatus]:
    return list(rules.INCIDENT_NEXT[IncidentStatus(incident.status)])


def change_status(
    db: Session,
    *,
    key: str,
    actor: str,
    status: IncidentStatus,
    reason: str | None = None,
    outcome: str | None = None,
) -> Incident:
    """Move the incident along its lifecycle; see :mod:`firestop.incidents.rules`."""
    incident = locked(db, key)
    current = IncidentStatus(incident.status)
    allowed = rules.INCIDENT_NEXT[current]
    if status not in allowed:
        options = ", ".join(allowed) if allowed else "none; a closed incident is final"
        raise conflict(
            f"{incident.key} cannot move from {current} to {status}; allowed next: {options}"
        )
    reason = (reason or "").strip() or None
    if rules.closes_from_triage(current, status):
        if outcome not in rules.CLOSING_OUTCOMES:
            raise invalid(
                "closing from triage records an outcome",
                [FieldError("outcome", f"use one of {', '.join(rules.CLOSING_OUTCOMES)}")],
            )
        if reason is None:
            raise invalid(
                "closing from triage needs a reason", [FieldError("reason", "a reason is required")]
            )
    elif outcome is not None:
        raise conflict(
            f"the outcome {outcome!r} can only be recorded when closing from triage; "
            f"{incident.key} is in {current}"
        )
    if (current, status) in rules.RECURRENCE and reason is None:
        raise invalid(
            "going back needs a reason",
            [FieldError("reason", "say what recurred")],
        )
    now = utcnow()
    incident.status = status.value
    stamp = _ENTERED_AT[status]
    if getattr(incident, stamp) is None:
        setattr(incident, stamp, now)
    if status == IncidentStatus.closed:
        incident.outcome = outcome
        incident.closure_reason = reason
    after: dict[str, Any] = {"status": status.value}
    if outcome is not None:
        after["outcome"] = outcome
    record_event(
        db,
        incident,
        actor=actor,
        kind="status.changed",
        before={"status": current.value},
        after=after,
        note=reason,
    )
    return incident
