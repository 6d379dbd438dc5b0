"""Public report intake and the triage queue."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, TypedDict

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, Response, status
from pydantic import AwareDatetime, ValidationError
from starlette.concurrency import run_in_threadpool

from firestop.auth import (
    MaybePrincipal,
    Permission,
    Principal,
    Reader,
    Triager,
    current_principal,
)
from firestop.deps import DB, AppSettings, CurrentPolicy, RowId
from firestop.errors import FirestopError, forbidden, invalid, validation_errors
from firestop.ledger.body import media_type, read_body, unsupported
from firestop.ratelimit import SlidingWindowLimiter, client_address
from firestop.signals import alerts, service
from firestop.signals.models import SignalSource, SignalStatus
from firestop.signals.schemas import (
    AcceptIn,
    AlertsResult,
    DecisionIn,
    FindingPage,
    InteractionPage,
    PublicStatus,
    ReportIn,
    ReportReceipt,
    ReportStatus,
    SignalDetail,
    SignalGroup,
    SignalOut,
    SnoozeIn,
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


class SignalFilters(TypedDict):
    status: SignalStatus | None
    system: str | None
    source: SignalSource | None
    detector: str | None
    rule: str | None
    escalated: bool | None
    snoozed: bool | None
    since: datetime | None
    until: datetime | None


class SignalQuery:
    """The filters the signal list and the groups share."""

    def __init__(
        self,
        status: SignalStatus | None = None,
        system: Annotated[str | None, Query(max_length=100)] = None,
        source: SignalSource | None = None,
        detector: Annotated[str | None, Query(max_length=100)] = None,
        rule: Annotated[
            str | None,
            Query(max_length=200, description="a rule id, or a prefix ending in '*' (pii.*)"),
        ] = None,
        escalated: bool | None = None,
        snoozed: Annotated[
            bool | None,
            Query(
                description="true: only signals snoozed now; false: only the others; left "
                "out, status=new hides snoozed signals that did not escalate"
            ),
        ] = None,
        since: Annotated[
            AwareDatetime | None, Query(description="seen at or after: last_seen >= since")
        ] = None,
        until: Annotated[
            AwareDatetime | None, Query(description="seen before: first_seen < until")
        ] = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
        offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    ) -> None:
        self.filters: SignalFilters = {
            "status": status,
            "system": system,
            "source": source,
            "detector": detector,
            "rule": rule,
            "escalated": escalated,
            "snoozed": snoozed,
            "since": since,
            "until": until,
        }
        self.limit, self.offset = limit, offset


Filters = Annotated[SignalQuery, Depends()]


@router.get("/signals", response_model=list[SignalOut])
def list_signals(db: DB, _: Reader, query: Filters) -> list[SignalOut]:
    """The triage queue (``status=new``), the near-miss log (``status=near_miss``) and more.

    Newest first. The queue hides signals snoozed now unless they escalated; ask with
    ``snoozed=true`` to see them.
    """
    found = service.list_signals(db, **query.filters, limit=query.limit, offset=query.offset)
    return service.signal_views(db, found)


@router.get("/signals/groups", response_model=list[SignalGroup])
def signal_groups(db: DB, _: Reader, query: Filters) -> list[SignalGroup]:
    """Signals grouped by fingerprint — one problem seen again and again — most recent first."""
    return service.signal_groups(db, **query.filters, limit=query.limit, offset=query.offset)


@router.get("/signals/{signal_id}", response_model=SignalDetail)
def get_signal(signal_id: RowId, db: DB, principal: Reader) -> SignalDetail:
    """The signal with its report, and the first of its interactions and findings."""
    signal = service.get_signal(db, signal_id)
    return service.signal_detail(db, signal, with_contact=principal.can(Permission.triage))


Limit = Annotated[int, Query(ge=1, le=1000)]
Offset = Annotated[int, Query(ge=0, le=10_000_000)]


@router.get("/signals/{signal_id}/interactions", response_model=InteractionPage)
def signal_interactions(
    signal_id: RowId, db: DB, _: Reader, limit: Limit = 100, offset: Offset = 0
) -> InteractionPage:
    """The interactions behind the signal, most recently seen first, without content."""
    service.get_signal(db, signal_id)
    return service.signal_interactions(db, signal_id, limit=limit, offset=offset)


@router.get("/signals/{signal_id}/findings", response_model=FindingPage)
def signal_findings(
    signal_id: RowId, db: DB, _: Reader, limit: Limit = 100, offset: Offset = 0
) -> FindingPage:
    """What the detectors found for the signal, with the matches redacted."""
    service.get_signal(db, signal_id)
    return service.signal_findings(db, signal_id, limit=limit, offset=offset)


@router.post("/signals/{signal_id}/snooze", response_model=SignalOut)
def snooze_signal(signal_id: RowId, body: SnoozeIn, db: DB, principal: Triager) -> SignalOut:
    """Hide the signal's fingerprint from the queue until ``until`` or for ``minutes``;
    later signals with the same fingerprint inherit the snooze while it lasts."""
    signal = service.snooze_signal(
        db,
        signal_id=signal_id,
        actor=principal.actor,
        reason=body.reason,
        until=body.until,
        minutes=body.minutes,
    )
    db.commit()
    return service.signal_view(db, signal)


@router.post("/signals/{signal_id}/unsnooze", response_model=SignalOut)
def unsnooze_signal(signal_id: RowId, db: DB, _: Triager) -> SignalOut:
    """End the fingerprint's snooze now; its signals return to the queue."""
    signal = service.unsnooze_signal(db, signal_id=signal_id)
    db.commit()
    return service.signal_view(db, signal)


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
    return service.signal_view(db, signal)


@router.post("/signals/{signal_id}/near-miss", response_model=SignalOut)
def mark_near_miss(signal_id: RowId, body: DecisionIn, db: DB, principal: Triager) -> SignalOut:
    signal = service.mark_near_miss(
        db, signal_id=signal_id, actor=principal.actor, reason=body.reason
    )
    db.commit()
    return service.signal_view(db, signal)


@router.post("/signals/{signal_id}/dismiss", response_model=SignalOut)
def dismiss_signal(signal_id: RowId, body: DecisionIn, db: DB, principal: Triager) -> SignalOut:
    signal = service.dismiss_signal(
        db, signal_id=signal_id, actor=principal.actor, reason=body.reason
    )
    db.commit()
    return service.signal_view(db, signal)


async def _alert_sender(
    principal: Annotated[Principal, Depends(current_principal)],
) -> Principal:
    """Telemetry tokens send alerts as collectors do; responders may post one by hand."""
    if not (principal.can(Permission.ingest) or principal.can(Permission.triage)):
        raise forbidden(
            f"role {principal.role.value!r} lacks the 'ingest' (or 'triage') permission "
            "needed to send alerts; use a telemetry token"
        )
    return principal


@router.post(
    "/alerts/{source}",
    response_model=AlertsResult,
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "One alert (a JSON object) or an array of them, as the tool sends "
            "it; at most 1 MB. The policy's detection.alerts.<source> says how to read it.",
            "content": {"application/json": {"schema": {"type": "object"}}},
        }
    },
)
async def post_alerts(
    source: Annotated[str, Path(max_length=100)],
    request: Request,
    db: DB,
    policy: CurrentPolicy,
    _: Annotated[Principal, Depends(_alert_sender)],
) -> AlertsResult:
    """Alerts from another tool (DLP, SIEM, vendor status) become signals, deduplicated,
    aggregated and routed like a detector's."""
    if source not in policy.detection.alerts:
        raise alerts.unknown_source(source, policy)
    if media_type(request) != "application/json":
        raise unsupported("send alerts as application/json")
    items = alerts.parse_alerts(await read_body(request, alerts.ALERT_MAX_BYTES))

    def work() -> AlertsResult:
        result = alerts.raise_alerts(db, policy=policy, source=source, alerts=items)
        db.commit()
        return result

    # Locks and queries per alert: database work, off the event loop.
    return await run_in_threadpool(work)
