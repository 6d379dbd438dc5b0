"""Triage decisions on signals, posted from the dashboard's queue."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form
from fastapi.responses import RedirectResponse

from firestop.auth import Triager
from firestop.deps import DB, CurrentPolicy
from firestop.signals import service as signals

router = APIRouter(include_in_schema=False)

Reason = Annotated[str, Form(max_length=4000)]


@router.post("/signals/{signal_id}/accept")
def accept(
    signal_id: int,
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
def near_miss(signal_id: int, db: DB, principal: Triager, reason: Reason = "") -> RedirectResponse:
    signals.mark_near_miss(db, signal_id=signal_id, actor=principal.actor, reason=reason)
    db.commit()
    return RedirectResponse("/?done=near_miss", status_code=303)


@router.post("/signals/{signal_id}/dismiss")
def dismiss(signal_id: int, db: DB, principal: Triager, reason: Reason = "") -> RedirectResponse:
    signals.dismiss_signal(db, signal_id=signal_id, actor=principal.actor, reason=reason)
    db.commit()
    return RedirectResponse("/?done=dismissed", status_code=303)
