"""The interaction ledger over HTTP: native batch ingest and reads (D2)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from firestop.auth import ContentReader, Ingester, Reader
from firestop.deps import DB, AppSettings, CurrentPipeline, RowId, ingest_slots
from firestop.detect.pipeline import ingest, read_records
from firestop.errors import FirestopError
from firestop.ledger import otlp, service
from firestop.ledger.body import media_type, read_body
from firestop.ledger.schemas import IngestResult, InteractionOut
from firestop.ledger.telemetry import Received, receive_logs, receive_traces

router = APIRouter(prefix="/api/v1/interactions", tags=["ledger"])

_BODY_TYPES = ("application/json", "application/x-ndjson")


@router.post(
    "",
    response_model=IngestResult,
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "A JSON array of interactions (see InteractionIn) or NDJSON, one "
            "interaction per line; Content-Encoding gzip accepted.",
            "content": {t: {"schema": {"type": "string"}} for t in _BODY_TYPES},
        }
    },
)
async def post_interactions(
    request: Request,
    db: DB,
    settings: AppSettings,
    pipeline: CurrentPipeline,
    _: Ingester,
) -> IngestResult:
    """Store a batch. Invalid records are reported by index; the valid ones are kept."""
    body = await read_body(request, settings.ingest_max_bytes)
    media = media_type(request)

    # Parsing, detection and storage are CPU and database work: off the event loop.
    def work() -> IngestResult:
        result = ingest(db, pipeline, read_records(body, media))
        db.commit()
        return result

    async with ingest_slots(request.app):
        return await run_in_threadpool(work)


@router.get("", response_model=list[InteractionOut])
def list_interactions(
    db: DB,
    principal: Reader,
    system: str | None = None,
    user_id: str | None = None,
    session_id: str | None = None,
    model: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> list[InteractionOut]:
    """Interactions, newest first, without their content (ask for one to read it)."""
    rows = service.list_interactions(
        db,
        system=system,
        user_id=user_id,
        session_id=session_id,
        model=model,
        since=since,
        until=until,
        limit=limit,
        offset=offset,
    )
    held = service.held_ids(db, [r.id for r in rows])  # one query for the page, not one per row
    return [
        service.interaction_view(
            db, r, with_content=False, reader=principal.actor, held=r.id in held
        )
        for r in rows
    ]


@router.get("/{interaction_id}", response_model=InteractionOut)
def get_interaction(db: DB, interaction_id: RowId, principal: Reader) -> InteractionOut:
    """One interaction without its content."""
    row = service.get_interaction(db, interaction_id)
    return service.interaction_view(db, row, with_content=False, reader=principal.actor)


@router.get("/{interaction_id}/content", response_model=InteractionOut)
def read_content(
    db: DB,
    interaction_id: RowId,
    principal: ContentReader,
    purpose: Annotated[str, Query(max_length=500)] = "",
) -> InteractionOut:
    """One interaction with its prompt and output. A read of raw content is recorded."""
    row = service.get_interaction(db, interaction_id)
    view = service.interaction_view(
        db, row, with_content=True, reader=principal.actor, purpose=purpose
    )
    db.commit()
    return view


@router.get("/{interaction_id}/reads")
def content_reads(db: DB, interaction_id: RowId, _: ContentReader) -> list[dict[str, object]]:
    """Who read this interaction's raw content, when and why."""
    service.get_interaction(db, interaction_id)
    return [
        {"reader": r.reader, "read_at": r.read_at, "purpose": r.purpose}
        for r in service.content_reads(db, interaction_id)
    ]


# --- OTLP/HTTP ---------------------------------------------------------------------------------

otlp_router = APIRouter(tags=["ledger"])

_OTLP_TYPES = ("application/x-protobuf", "application/json")


def _otlp_body(kind: str) -> dict[str, object]:
    return {
        "requestBody": {
            "required": True,
            "description": f"An OTLP Export{kind}ServiceRequest (protobuf or JSON; gzip accepted)",
            "content": {t: {"schema": {"type": "string"}} for t in _OTLP_TYPES},
        }
    }


async def _otlp(
    request: Request,
    db: DB,
    settings: AppSettings,
    pipeline: CurrentPipeline,
    signal: Literal["traces", "logs"],
) -> Response:
    content_type = request.headers.get("content-type")
    try:
        raw = bytearray()
        async for chunk in request.stream():
            raw += chunk
            if len(raw) > settings.ingest_max_bytes:
                raise otlp.OtlpTooLarge(
                    f"the request body is larger than {settings.ingest_max_bytes} bytes"
                )
        body = otlp.maybe_gunzip(
            bytes(raw), request.headers.get("content-encoding"), settings.ingest_max_bytes
        )
        decoded = (
            otlp.decode_traces(body, content_type)
            if signal == "traces"
            else otlp.decode_logs(body, content_type)
        )
    except otlp.OtlpDecodeError as exc:
        # OTLP clients read a google.rpc.Status body; a problem document says the same to people.
        raise FirestopError(str(exc), [], exc.status_code, "Bad OTLP request", "bad-otlp") from exc

    def work() -> Received:
        if signal == "traces":
            received = receive_traces(db, pipeline, otlp.spans_to_interactions(decoded))
        else:
            received = receive_logs(db, pipeline, otlp.logs_to_events(decoded))
        db.commit()
        return received

    async with ingest_slots(request.app):
        received = await run_in_threadpool(work)
    payload, media = otlp.export_response(
        signal,
        rejected=received.rejected,
        error_message="; ".join(received.messages),
        content_type=content_type,
    )
    return Response(content=payload, media_type=media)


@otlp_router.post("/v1/traces", openapi_extra=_otlp_body("Trace"))
async def otlp_traces(
    request: Request, db: DB, settings: AppSettings, pipeline: CurrentPipeline, _: Ingester
) -> Response:
    """OTLP/HTTP traces: GenAI spans become interactions (OpenTelemetry GenAI conventions,
    OpenLLMetry and OpenInference attributes); other spans are ignored."""
    return await _otlp(request, db, settings, pipeline, "traces")


@otlp_router.post("/v1/logs", openapi_extra=_otlp_body("Logs"))
async def otlp_logs(
    request: Request, db: DB, settings: AppSettings, pipeline: CurrentPipeline, _: Ingester
) -> Response:
    """OTLP/HTTP logs: GenAI message events join the interaction of their span."""
    return await _otlp(request, db, settings, pipeline, "logs")
