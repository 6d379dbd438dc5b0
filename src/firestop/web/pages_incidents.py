"""The incidents list and the incident page: facts, severity with reasons, harm, claims,
people, protective actions and the timeline, with the forms for the main actions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from firestop.access import service as access
from firestop.auth import Permission, Reader
from firestop.deps import DB, CurrentPolicy
from firestop.incidents import records, rules
from firestop.incidents import service as incidents
from firestop.incidents.models import (
    ClaimKind,
    ClaimStatus,
    Continuing,
    CountBasis,
    IncidentStatus,
    ParticipantRole,
)
from firestop.incidents.schemas import ClaimOut
from firestop.incidents.views import incident_summary, incident_view
from firestop.inventory import service as inventory
from firestop.policy.schemas import Policy, Sev
from firestop.web import facts
from firestop.web.templating import render

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 100
# Claims are shown strongest first; hypotheses are labelled as such wherever they appear.
CLAIM_ORDER = (
    ClaimStatus.confirmed,
    ClaimStatus.supported,
    ClaimStatus.hypothesis,
    ClaimStatus.refuted,
)
CLAIM_HEADINGS = {
    ClaimStatus.confirmed: "Confirmed",
    ClaimStatus.supported: "Supported by evidence, not yet confirmed",
    ClaimStatus.hypothesis: "Hypotheses — not established",
    ClaimStatus.refuted: "Refuted",
}


@router.get("/incidents")
def incident_list(
    request: Request,
    db: DB,
    principal: Reader,
    status: IncidentStatus | None = None,
    severity: Sev | None = None,
    open_only: Annotated[bool, Query(alias="open")] = False,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> HTMLResponse:
    found = incidents.list_incidents(
        db,
        open_only=open_only,
        status=status,
        severity=severity,
        limit=PAGE_SIZE + 1,
        offset=offset,
    )
    summaries = [incident_summary(i) for i in found[:PAGE_SIZE]]
    filters = {
        "status": status.value if status else "",
        "severity": severity.value if severity else "",
        "open": "1" if open_only else "",
    }
    query = "&".join(f"{k}={v}" for k, v in filters.items() if v)
    return render(
        request,
        "incidents.html",
        principal=principal,
        incidents=summaries,
        filters=filters,
        statuses=list(IncidentStatus),
        severities=list(Sev),
        previous_offset=max(0, offset - PAGE_SIZE) if offset else None,
        next_offset=offset + PAGE_SIZE if len(found) > PAGE_SIZE else None,
        query=query,
    )


def _claim_groups(claims: list[ClaimOut]) -> list[tuple[ClaimStatus, str, list[ClaimOut]]]:
    return [
        (status, CLAIM_HEADINGS[status], [c for c in claims if c.status == status])
        for status in CLAIM_ORDER
    ]


def _labels(policy: Policy) -> dict[str, dict[str, str]]:
    """Identifier → label maps the page uses to show words instead of slugs."""
    factors = policy.severity.factors
    return {
        "factor": {f.id: f.label for f in factors},
        "level": {f"{f.id}.{lv.id}": lv.label for f in factors for lv in f.levels},
        "cause": {c.id: c.label for c in policy.taxonomy.cause_candidates},
        "outcome": {o.id: o.label for o in policy.taxonomy.outcomes},
    }


def _needs_reason(current: IncidentStatus) -> set[str]:
    """Next statuses that must carry a reason from ``current``: going back after a
    recurrence, and closing straight from triage."""
    needed = {target.value for source, target in rules.RECURRENCE if source == current}
    if current == IncidentStatus.triage:
        needed.add(IncidentStatus.closed.value)
    return needed


@router.get("/incidents/{key}")
def incident_page(
    request: Request, key: str, db: DB, policy: CurrentPolicy, principal: Reader
) -> HTMLResponse:
    detail = incident_view(db, policy=policy, key=key)
    events = records.timeline(db, detail.key)
    can_write = principal.can(Permission.incident_write)
    return render(
        request,
        "incident.html",
        principal=principal,
        incident=detail,
        events=events,
        claim_groups=_claim_groups(detail.claims),
        labels=_labels(policy),
        policy=policy,
        can_write=can_write,
        can_claim=principal.can(Permission.claim_write),
        closing_outcomes=rules.CLOSING_OUTCOMES,
        needs_reason=_needs_reason(detail.status),
        claim_kinds=list(ClaimKind),
        claim_needs_reason={f"{a.value}>{b.value}" for a, b in rules.CLAIM_NEEDS_REASON},
        participant_roles=list(ParticipantRole),
        severities=list(Sev),
        facts_version=facts.version(detail) if can_write else "",
        continuing=list(Continuing),
        count_bases=list(CountBasis),
        # Only the people who can edit the incident need the pick lists.
        users=access.list_users(db) if can_write else [],
        people=inventory.list_people(db) if can_write else [],
        systems=inventory.list_systems(db) if can_write else [],
    )
