"""Public report intake and the triage queue."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response, status
from pydantic import AwareDatetime, ValidationError

from firestop.auth import MaybePrincipal, Permission, Reader, Triager
from firestop.deps import DB, AppSettings, CurrentPolicy, RowId
from firestop.errors import FirestopError, invalid, validation_errors
from firestop.ratelimit import SlidingWindowLimiter, client_address
from firestop.signals import service
from firestop.signals.models import SignalSource, SignalStatus
from firestop.signals.schemas import (
    AcceptIn,
    DecisionIn,
    PublicStatus,
    ReportIn,
    ReportReceipt,
    ReportStatus,
    SignalDetail,
    SignalOut,
)

router = APIRouter(prefix="/api/v1", tags=["signals"])


def _too_large(limit: int) -> FirestopError:
    return FirestopError(
        f"a report may be at most {limit} bytes", [], 413, "Content too large", "too-large"
    )


async def _precheck(request: Request, settings: AppSettings) -> None:
    """Refuse what is not JSON, or declares itself too large, before anything reads it."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "application/json":
        raise FirestopError(
            "send the report as application/json",
            [],
            415,
            "Unsupported media type",
            "unsupported-media-type",
        )
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > settings.report_max_bytes:
        raise _too_large(settings.report_max_bytes)


async def _report_in(
    request: Request,
    settings: AppSettings,
    _: Annotated[None, Depends(_precheck)],
    principal: MaybePrincipal,
) -> ReportIn:
    """The report body: rate-limited per client address, size-limited, then parsed.

    Callers allowed to report on others' behalf (a help desk) are not rate-limited.
    """
    if principal is None or not principal.can(Permission.report):
        limiter: SlidingWindowLimiter = request.app.state.report_limiter
        decision = limiter.hit(client_address(request))
        if not decision.allowed:
            raise HTTPException(
                status.HTTP_429_TOO_MANY_REQUESTS,
                "too many reports from this address; try again later",
                headers={"Retry-After": str(decision.retry_after)},
            )
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > settings.report_max_bytes:
            raise _too_large(settings.report_max_bytes)
    try:
        return ReportIn.model_validate_json(bytes(body))
    except ValidationError as exc:
        raise invalid("the report is not valid", validation_errors(exc)) from exc


_REPORT_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": ReportIn.model_json_schema()}},
    }
}


@router.post(
    "/reports",
    response_model=ReportReceipt,
    status_code=status.HTTP_201_CREATED,
    openapi_extra=_REPORT_BODY,
)
def submit_report(
    body: Annotated[ReportIn, Depends(_report_in)],
    principal: MaybePrincipal,
    db: DB,
    response: Response,
) -> ReportReceipt:
    """Report harmful AI behaviour. No account or classification needed; keep the reference."""
    report = service.submit_report(
        db,
        text=body.text,
        system=body.system,
        interaction_ref=body.interaction_ref,
        contact=body.contact,
        channel=body.channel,
        submitted_by=principal.actor if principal else None,
    )
    db.commit()
    response.headers["Location"] = f"/api/v1/reports/{report.reference}"
    return ReportReceipt(
        reference=report.reference,
        url=f"/report/{report.reference}",
        status=PublicStatus.received,
        received_at=report.received_at,
    )


@router.get("/reports/{reference}", response_model=ReportStatus)
def report_status(reference: str, db: DB) -> ReportStatus:
    """The coarse status of a report, for whoever holds its reference."""
    return service.report_status(db, reference=reference)


@router.get("/signals", response_model=list[SignalOut])
def list_signals(
    db: DB,
    _: Reader,
    status: SignalStatus | None = None,
    system: Annotated[str | None, Query(max_length=100)] = None,
    source: SignalSource | None = None,
    since: AwareDatetime | None = None,
    until: AwareDatetime | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[SignalOut]:
    """The triage queue (``status=new``), the near-miss log (``status=near_miss``) and more."""
    found = service.list_signals(
        db,
        status=status,
        system=system,
        source=source,
        since=since,
        until=until,
        limit=limit,
        offset=offset,
    )
    return [service.signal_view(s) for s in found]


@router.get("/signals/{signal_id}", response_model=SignalDetail)
def get_signal(signal_id: RowId, db: DB, principal: Reader) -> SignalDetail:
    signal = service.get_signal(db, signal_id)
    return service.signal_detail(signal, with_contact=principal.can(Permission.triage))


@router.post("/signals/{signal_id}/accept", response_model=SignalOut)
def accept_signal(
    signal_id: RowId, body: AcceptIn, db: DB, policy: CurrentPolicy, principal: Triager
) -> SignalOut:
    """Accept into an existing incident (``incident``) or open a new one from the signal."""
    signal = service.accept_signal(
        db,
        policy=policy,
        signal_id=signal_id,
        actor=principal.actor,
        incident_key=body.incident,
        title=body.title,
        categories=body.categories or (),
        factors=body.factors,
        note=body.note,
    )
    db.commit()
    return service.signal_view(signal)


@router.post("/signals/{signal_id}/near-miss", response_model=SignalOut)
def mark_near_miss(signal_id: RowId, body: DecisionIn, db: DB, principal: Triager) -> SignalOut:
    signal = service.mark_near_miss(
        db, signal_id=signal_id, actor=principal.actor, reason=body.reason
    )
    db.commit()
    return service.signal_view(signal)


@router.post("/signals/{signal_id}/dismiss", response_model=SignalOut)
def dismiss_signal(signal_id: RowId, body: DecisionIn, db: DB, principal: Triager) -> SignalOut:
    signal = service.dismiss_signal(
        db, signal_id=signal_id, actor=principal.actor, reason=body.reason
    )
    db.commit()
    return service.signal_view(signal)
