"""The dashboard: open incidents by effective severity, the triage queue and counts."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from firestop.auth import Permission, Reader
from firestop.deps import DB, CurrentPolicy
from firestop.incidents import service as incidents
from firestop.incidents.schemas import IncidentSummary
from firestop.incidents.views import incident_summary
from firestop.policy.schemas import Sev
from firestop.signals import service as signals
from firestop.signals.models import SignalStatus
from firestop.web.templating import render

router = APIRouter(include_in_schema=False)

# More than this many open incidents or waiting signals is a crisis of its own; the counts
# then say "500+" and the lists link to the full pages.
LIST_LIMIT = 500
QUEUE_LIMIT = 200
REFRESH_SECONDS = 60


@dataclass
class SeverityGroup:
    level: Sev | None
    incidents: list[IncidentSummary]

    @property
    def label(self) -> str:
        return self.level.value if self.level else "Not yet assessed"

    @property
    def css(self) -> str:
        return self.level.value if self.level else "none"


def by_severity(summaries: list[IncidentSummary]) -> list[SeverityGroup]:
    """SEV1 first, unassessed last; groups without incidents are left out."""
    order: list[Sev | None] = [*sorted(Sev, key=lambda s: s.rank), None]
    groups = [
        SeverityGroup(level, [s for s in summaries if s.severity == level]) for level in order
    ]
    return [g for g in groups if g.incidents]


def _count(found: int, limit: int) -> str:
    return f"{limit}+" if found >= limit else str(found)


@router.get("/")
def dashboard(request: Request, db: DB, policy: CurrentPolicy, principal: Reader) -> HTMLResponse:
    summaries = [
        incident_summary(i) for i in incidents.list_incidents(db, open_only=True, limit=LIST_LIMIT)
    ]
    queue = signals.list_signals(db, status=SignalStatus.new, limit=QUEUE_LIMIT)
    groups = by_severity(summaries)
    sev1 = sum(1 for s in summaries if s.severity == Sev.SEV1)
    in_triage = sum(1 for s in summaries if s.status == "triage")
    return render(
        request,
        "dashboard.html",
        principal=principal,
        groups=groups,
        queue=queue,
        open_incidents=summaries,
        counts=[
            ("Open incidents", _count(len(summaries), LIST_LIMIT)),
            ("Open at SEV1", str(sev1)),
            ("Incidents in triage", str(in_triage)),
            ("Signals awaiting triage", _count(len(queue), QUEUE_LIMIT)),
        ],
        can_triage=principal.can(Permission.triage),
        categories=policy.taxonomy.categories,
        refresh_seconds=REFRESH_SECONDS,
    )
