"""Which status may follow which, for incidents and for claims.

Incidents move forward one stage at a time::

    triage → investigating → contained → recovering → monitoring → closed

Two exceptions. From ``triage`` only, an incident may be closed at once with the outcome
``near_miss`` or ``not_an_incident`` (a reason is required): triage is where it is decided
whether there is an incident at all. From ``monitoring``, when the problem recurs, it may go
back to ``recovering`` or ``contained`` (a reason is required). ``closed`` is final.

Claims (T3)::

    hypothesis → supported | refuted
    supported  → confirmed | refuted | hypothesis
    confirmed  → hypothesis   (reopened, reason required)
    refuted    → hypothesis   (reopened, reason required)

A claim cannot jump from hypothesis to confirmed: it is first supported by evidence.
Confirming needs at least one evidence reference and a named person who confirms it.
Refuting and reopening need a reason.
"""

from __future__ import annotations

from firestop.incidents.models import ClaimStatus, IncidentStatus

S = IncidentStatus
C = ClaimStatus

CLOSING_OUTCOMES = ("near_miss", "not_an_incident")

INCIDENT_NEXT: dict[IncidentStatus, tuple[IncidentStatus, ...]] = {
    S.triage: (S.investigating, S.closed),
    S.investigating: (S.contained,),
    S.contained: (S.recovering,),
    S.recovering: (S.monitoring,),
    S.monitoring: (S.closed, S.recovering, S.contained),
    S.closed: (),
}

# Moves that step backwards because the problem came back.
RECURRENCE = frozenset({(S.monitoring, S.recovering), (S.monitoring, S.contained)})

CLAIM_NEXT: dict[ClaimStatus, tuple[ClaimStatus, ...]] = {
    C.hypothesis: (C.supported, C.refuted),
    C.supported: (C.confirmed, C.refuted, C.hypothesis),
    C.confirmed: (C.hypothesis,),
    C.refuted: (C.hypothesis,),
}

# Claim moves that must carry a reason.
CLAIM_NEEDS_REASON = frozenset(
    {
        (C.hypothesis, C.refuted),
        (C.supported, C.refuted),
        (C.confirmed, C.hypothesis),
        (C.refuted, C.hypothesis),
    }
)


def closes_from_triage(current: IncidentStatus, target: IncidentStatus) -> bool:
    return current == S.triage and target == S.closed
