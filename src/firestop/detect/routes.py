"""Metrics posted by systems (for drift detection) and the findings detectors made."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from pydantic import Field, TypeAdapter, ValidationError
from starlette.concurrency import run_in_threadpool

from firestop.auth import Ingester
from firestop.db import utcnow
from firestop.deps import DB, AppSettings, CurrentPipeline
from firestop.detect.metrics import UnknownSystems, record_metrics
from firestop.detect.pipeline import deliver
from firestop.detect.schemas import MetricIn, MetricsResult
from firestop.errors import FieldError, invalid, validation_errors
from firestop.ledger.body import JSON_TYPES, media_type, parse_records, read_body, unsupported

router = APIRouter(prefix="/api/v1", tags=["detection"])

_points = TypeAdapter(Annotated[list[MetricIn], Field(max_length=100_000)])


@router.post(
    "/metrics",
    response_model=MetricsResult,
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "A JSON array of metric values (or one value); gzip accepted.",
            "content": {"application/json": {"schema": _points.json_schema()}},
        }
    },
)
async def post_metrics(
    request: Request, db: DB, settings: AppSettings, pipeline: CurrentPipeline, _: Ingester
) -> MetricsResult:
    """Store technical or business metric values; drift detection watches each series."""
    media = media_type(request)
    if media not in JSON_TYPES:
        raise unsupported("send metrics as application/json")
    items = parse_records(await read_body(request, settings.ingest_max_bytes), media)
    try:
        points = _points.validate_python(items)
    except ValidationError as exc:
        raise invalid("the metric values are not valid", validation_errors(exc)) from exc

    def work() -> MetricsResult:
        now = utcnow()
        try:
            stored, findings = record_metrics(db, configs=pipeline.configs, points=points, now=now)
        except UnknownSystems as exc:
            raise invalid(
                "some values name systems the inventory does not know; nothing was stored",
                [FieldError("system", f"unknown system {slug!r}") for slug in exc.slugs],
            ) from exc
        signals = deliver(db, pipeline, findings, now=now)
        db.commit()
        return MetricsResult(stored=stored, signals=signals)

    return await run_in_threadpool(work)
