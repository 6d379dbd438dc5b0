"""The live triage queue, and triage decisions and snoozes posted from the queue or a signal.

The queue page is rendered whole by the server and then kept current by ``triage.js``, which
polls the signal API with the page's own filters: new signals appear and occurrence counts
change without a reload. Polling (not a held-open stream) keeps every request short, so
nothing holds a worker or a database connection while a page sits open.
"""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import select

from firestop.auth import Reader, Triager
from firestop.deps import DB, CurrentPolicy, RowId
from firestop.inventory.models import System
from firestop.signals import service as signals
from firestop.signals.models import Signal, SignalStatus
from firestop.web.templating import render

router = APIRouter(include_in_schema=False)

# The queue shows this many signals; the API pages through the rest.
QUEUE_LIMIT = 200
# How often the page asks for changes. Short enough to feel live, long enough that a room
# full of open queues is a few requests a second.
POLL_SECONDS = 5
# Snooze lengths offered on the signal page, in minutes, with their labels.
SNOOZE_CHOICES = [
    (60, "1 hour"),
    (240, "4 hours"),
    (1440, "1 day"),
    (10_080, "7 days"),
    (43_200, "30 days"),
    (129_600, "90 days"),
]
StatusChoice = Literal["new", "near_miss", "accepted", "dismissed", "any"]


@router.get("/triage")
def triage_queue(
    request: Request,
    db: DB,
    principal: Reader,
    status: StatusChoice = "new",
    detector: Annotated[str, Query(max_length=100)] = "",
    system: Annotated[str, Query(max_length=100)] = "",
    snoozed: Literal["", "1"] = "",
) -> HTMLResponse:
    """The queue with its filters; the same filters go to the API for the live updates."""
    api_query: dict[str, str] = {"limit": str(QUEUE_LIMIT)}
    if status != "any":
        api_query["status"] = status
    if detector:
        api_query["detector"] = detector
    if system:
        api_query["system"] = system
    if snoozed:
        api_query["snoozed"] = "true"
    found = signals.list_signals(
        db,
        status=None if status == "any" else SignalStatus(status),
        detector=detector or None,
        system=system or None,
        snoozed=True if snoozed else None,
        limit=QUEUE_LIMIT,
    )
    detectors = db.scalars(
        select(Signal.detector_id)
        .where(Signal.detector_id.is_not(None))
        .distinct()
        .order_by(Signal.detector_id)
    )
    return render(
        request,
        "triage_queue.html",
        principal=principal,
        queue=signals.signal_views(db, found),
        chosen={"status": status, "detector": detector, "system": system, "snoozed": snoozed},
        statuses=["new", "near_miss", "accepted", "dismissed", "any"],
        detectors=list(detectors),
        systems=list(db.scalars(select(System.slug).order_by(System.slug))),
        api_query=urlencode(api_query),
        poll_seconds=POLL_SECONDS,
        limit=QUEUE_LIMIT,
    )


Reason = Annotated[str, Form(max_length=4000)]
# Where a near miss or a dismissal returns to: one of two fixed places, never a posted URL.
ReturnTo = Annotated[Literal["queue", "signal"], Form()]


def _after_decision(signal_id: int, return_to: str, done: str) -> RedirectResponse:
    target = f"/signals/{signal_id}" if return_to == "signal" else "/"
    return RedirectResponse(f"{target}?done={done}", status_code=303)


@router.post("/signals/{signal_id}/accept")
def accept(
    signal_id: RowId,
    db: DB,
    policy: CurrentPolicy,
    principal: Triager,
    incident: Annotated[str, Form(max_length=20)] = "",
    title: Annotated[str, Form(max_length=200)] = "",
    categories: Annotated[list[str] | None, Form(max_length=20)] = None,
    note: Reason = "",
) -> RedirectResponse:
    """Into an existing incident when one is chosen, otherwise into a new one."""
    if incident.strip():
        signal = signals.accept_signal(
            db,
            policy=policy,
            signal_id=signal_id,
            actor=principal.actor,
            incident_key=incident.strip(),
            note=note,
        )
    else:
        signal = signals.accept_signal(
            db,
            policy=policy,
            signal_id=signal_id,
            actor=principal.actor,
            title=title.strip() or None,
            categories=categories or [],
            note=note,
        )
    assert signal.incident is not None  # accepting always links an incident
    key = signal.incident.key
    db.commit()
    return RedirectResponse(f"/incidents/{key}?done=accepted", status_code=303)


@router.post("/signals/{signal_id}/near-miss")
def near_miss(
    signal_id: RowId, db: DB, principal: Triager, reason: Reason = "", return_to: ReturnTo = "queue"
) -> RedirectResponse:
    signals.mark_near_miss(db, signal_id=signal_id, actor=principal.actor, reason=reason)
    db.commit()
    return _after_decision(signal_id, return_to, "near_miss")


@router.post("/signals/{signal_id}/dismiss")
def dismiss(
    signal_id: RowId, db: DB, principal: Triager, reason: Reason = "", return_to: ReturnTo = "queue"
) -> RedirectResponse:
    signals.dismiss_signal(db, signal_id=signal_id, actor=principal.actor, reason=reason)
    db.commit()
    return _after_decision(signal_id, return_to, "dismissed")


@router.post("/signals/{signal_id}/snooze")
def snooze(
    signal_id: RowId,
    db: DB,
    principal: Triager,
    minutes: Annotated[int, Form(ge=1, le=129_600)],
    reason: Reason = "",
) -> RedirectResponse:
    signals.snooze_signal(
        db, signal_id=signal_id, actor=principal.actor, reason=reason, minutes=minutes
    )
    db.commit()
    return RedirectResponse(f"/signals/{signal_id}?done=snoozed", status_code=303)


@router.post("/signals/{signal_id}/unsnooze")
def unsnooze(signal_id: RowId, db: DB, _: Triager) -> RedirectResponse:
    signals.unsnooze_signal(db, signal_id=signal_id)
    db.commit()
    return RedirectResponse(f"/signals/{signal_id}?done=unsnoozed", status_code=303)
