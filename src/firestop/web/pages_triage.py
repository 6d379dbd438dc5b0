"""Triage decisions on signals, posted from the dashboard's queue or a signal's page."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Form
from fastapi.responses import RedirectResponse

from firestop.auth import Triager
from firestop.deps import DB, CurrentPolicy, RowId
from firestop.signals import service as signals

router = APIRouter(include_in_schema=False)

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
