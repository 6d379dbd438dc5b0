"""One signal: its report in full, where it came from, how often it recurred, the
interactions and findings behind it, and its triage decision.

The reporter's contact is shown only to those who may triage, as in the API; they also get
the queue's decision forms while the signal waits, and the snooze form.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from firestop.auth import Permission, Reader
from firestop.deps import DB, CurrentPolicy, RowId
from firestop.incidents import service as incidents
from firestop.signals import service as signals
from firestop.signals.models import SignalStatus
from firestop.web.pages_dashboard import LIST_LIMIT
from firestop.web.pages_triage import SNOOZE_CHOICES
from firestop.web.templating import render

# Interactions listed per page on a signal's page; a signal may gather thousands.
INTERACTIONS_PER_PAGE = 50

router = APIRouter(include_in_schema=False)


@router.get("/signals/{signal_id}")
def signal_page(
    request: Request,
    signal_id: RowId,
    db: DB,
    policy: CurrentPolicy,
    principal: Reader,
    interactions: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> HTMLResponse:
    """``interactions`` is the offset of the page of interactions shown."""
    signal = signals.get_signal(db, signal_id)
    can_triage = principal.can(Permission.triage)
    can_decide = can_triage and signal.status == SignalStatus.new
    return render(
        request,
        "signal.html",
        principal=principal,
        signal=signals.signal_detail(db, signal, with_contact=can_triage),
        linked=signals.signal_interactions(
            db, signal_id, limit=INTERACTIONS_PER_PAGE, offset=interactions
        ),
        snooze_choices=SNOOZE_CHOICES,
        system=signal.system,
        can_triage=can_triage,
        can_decide=can_decide,
        categories=policy.taxonomy.categories,
        open_incidents=(
            incidents.list_incidents(db, open_only=True, limit=LIST_LIMIT) if can_decide else []
        ),
    )
