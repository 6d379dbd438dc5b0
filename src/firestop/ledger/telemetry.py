"""OTLP telemetry into the ledger: storing what ``otlp.py`` maps, and joining what arrives late.

One interaction's telemetry may come in pieces and in any order: the model-call span, its
message log events (older GenAI instrumentations), the tool and retrieval spans of its trace
(agent frameworks export them in other batches). Pieces whose interaction is not stored yet
wait in ``PendingTelemetry``; pieces whose interaction is stored are merged into it, and the
content detectors run again over what is new. Work on one trace is serialised (an advisory
lock on PostgreSQL, the write lock on SQLite), so a span and its events arriving at the same
moment in two requests cannot both miss each other.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import delete, insert, select, text, tuple_
from sqlalchemy.orm import Session, selectinload

from firestop.db import take_write_lock, utcnow
from firestop.detect.pipeline import Pipeline, deliver, ingest
from firestop.ledger import otlp
from firestop.ledger import service as ledger
from firestop.ledger.models import Interaction, PendingTelemetry
from firestop.ledger.schemas import InteractionIn

log = logging.getLogger(__name__)
_NOT_SLUG = re.compile(r"[^a-z0-9._-]+")


def slug_of(raw: str) -> str:
    """``service.name`` as an inventory slug: "Support Bot" → "support-bot"."""
    slug = _NOT_SLUG.sub("-", raw.strip().lower()).strip("-._")
    return slug[:100]


@dataclass(slots=True)
class Received:
    stored: int = 0
    merged: int = 0
    pending: int = 0
    rejected: int = 0
    signals: int = 0
    messages: list[str] = field(default_factory=list)

    def reject(self, count: int, reason: str) -> None:
        self.rejected += count
        if reason not in self.messages and len(self.messages) < 20:
            self.messages.append(reason)


def _lock_traces(db: Session, trace_ids: Iterable[str]) -> None:
    if db.get_bind().dialect.name != "postgresql":
        take_write_lock(db)
        return
    for trace in sorted(set(trace_ids)):
        key = int.from_bytes(hashlib.sha256(trace.encode()).digest()[:8], "big", signed=True)
        db.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def _stored(db: Session, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], Interaction]:
    wanted = list(set(keys))
    found: dict[tuple[str, str], Interaction] = {}
    for start in range(0, len(wanted), 500):
        rows = db.scalars(
            select(Interaction)
            .where(
                tuple_(Interaction.trace_id, Interaction.span_id).in_(wanted[start : start + 500])
            )
            .options(selectinload(Interaction.system), selectinload(Interaction.downstream))
        )
        for row in rows:
            if row.trace_id and row.span_id:
                found[(row.trace_id, row.span_id)] = row
    return found


def _pending(db: Session, trace_ids: Iterable[str], kinds: Sequence[str]) -> list[PendingTelemetry]:
    ids = list(set(trace_ids))
    if not ids:
        return []
    return list(
        db.scalars(
            select(PendingTelemetry)
            .where(PendingTelemetry.trace_id.in_(ids), PendingTelemetry.kind.in_(kinds))
            .order_by(PendingTelemetry.id)
        )
    )


def _keep(db: Session, kind: str, key: tuple[str, str], payload: dict[str, Any]) -> None:
    db.execute(
        insert(PendingTelemetry),
        [{"trace_id": key[0], "span_id": key[1], "kind": kind, "payload": payload}],
    )


def _merge_into(
    db: Session, pipeline: Pipeline, row: Interaction, record: dict[str, Any], now: datetime
) -> int:
    """Save a fuller version of a stored interaction; detectors see only what is new."""
    try:
        before = InteractionIn.model_validate(ledger.record_of(row))
        after = InteractionIn.model_validate({**record, "system": row.system.slug})
    except ValidationError as exc:
        log.warning("telemetry for interaction %s could not be merged: %s", row.id, exc)
        return 0
    config = pipeline.configs.get(db, [row.system.slug])[row.system.slug]
    if config is None:
        return 0
    # Both versions in one scan: each Hyperscan call has a fixed cost.
    earlier, findings = pipeline.content.run_many([(before, config), (after, config)])
    seen = {(f.rule, f.path, f.start, f.end) for f in earlier}
    ledger.update_record(db, row, after, config, findings)
    fresh = [f for f in findings if (f.rule, f.path, f.start, f.end) not in seen]
    for f in fresh:
        f.interaction_ids, f.system_id = [row.id], config.id
    return deliver(db, pipeline, fresh, users={row.id: after.user_id}, now=now)


def _store_or_merge(
    db: Session, pipeline: Pipeline, records: list[dict[str, Any]], out: Received, now: datetime
) -> None:
    stored = _stored(
        db,
        ((r["trace_id"], r["span_id"]) for r in records if r.get("trace_id") and r.get("span_id")),
    )
    new: list[dict[str, Any]] = []
    for record in records:
        row = stored.get((record.get("trace_id", ""), record.get("span_id", "")))
        if row is None:
            new.append(record)
            continue
        merged = otlp.merge_interaction(ledger.record_of(row), record)
        out.signals += _merge_into(db, pipeline, row, merged, now)
        out.merged += 1
    if not new:
        return
    result = ingest(db, pipeline, new, now=now)
    out.stored += result.accepted
    out.signals += result.signals
    for item in result.rejected:
        reasons = "; ".join(f"{e['loc']}: {e['msg']}" for e in item.errors)
        out.reject(1, f"interaction {item.id or item.index}: {reasons}")


def receive_traces(
    db: Session, pipeline: Pipeline, mapping: otlp.TraceMapping, *, now: datetime | None = None
) -> Received:
    now = now or utcnow()
    out = Received(rejected=mapping.rejected, messages=list(mapping.messages))
    records = [dict(r, system=slug_of(str(r.get("system", "")))) for r in mapping.interactions]
    traces = {r["trace_id"] for r in records if r.get("trace_id")}
    traces |= {f.trace_id for f in mapping.tool_fragments}
    traces |= {f.trace_id for f in mapping.retrieval_fragments}
    _lock_traces(db, traces)

    # Message events that came before their span.
    waiting = _pending(db, traces, ["message"])
    events: dict[tuple[str, str], list[otlp.MessageEvent]] = defaultdict(list)
    for item in waiting:
        events[(item.trace_id, item.span_id)].append(otlp.MessageEvent.from_dict(item.payload))
    used: set[int] = set()
    for i, record in enumerate(records):
        key = (record.get("trace_id", ""), record.get("span_id", ""))
        if key in events:
            records[i] = otlp.merge_events(record, events[key])
            used |= {p.id for p in waiting if (p.trace_id, p.span_id) == key}

    # Tool and retrieval spans: this request's, and those that waited for their model call.
    fragments = _pending(db, traces, ["tool", "retrieval"])
    tools = list(mapping.tool_fragments) + [
        otlp.ToolFragment.from_dict(p.payload) for p in fragments if p.kind == "tool"
    ]
    documents = list(mapping.retrieval_fragments) + [
        otlp.RetrievalFragment.from_dict(p.payload) for p in fragments if p.kind == "retrieval"
    ]
    used |= {p.id for p in fragments}
    joined = otlp.join_fragments(records, tools, documents)
    records = joined.interactions
    if joined.tool_fragments or joined.retrieval_fragments:
        # Their model call may be stored already, from an earlier request.
        late = {f.trace_id for f in joined.tool_fragments}
        late |= {f.trace_id for f in joined.retrieval_fragments}
        rows = list(
            db.scalars(
                select(Interaction)
                .where(Interaction.trace_id.in_(late))
                .options(selectinload(Interaction.system), selectinload(Interaction.downstream))
            )
        )
        rebuilt = [ledger.record_of(r) for r in rows]
        again = otlp.join_fragments(rebuilt, joined.tool_fragments, joined.retrieval_fragments)
        for i in again.changed:
            out.signals += _merge_into(db, pipeline, rows[i], again.interactions[i], now)
            out.merged += 1
        for tool in again.tool_fragments:
            _keep(db, "tool", tool.key, tool.as_dict())
        for doc in again.retrieval_fragments:
            _keep(db, "retrieval", doc.key, doc.as_dict())
        out.pending += len(again.tool_fragments) + len(again.retrieval_fragments)
    if used:
        db.execute(delete(PendingTelemetry).where(PendingTelemetry.id.in_(used)))
    _store_or_merge(db, pipeline, records, out, now)
    return out


def receive_logs(
    db: Session, pipeline: Pipeline, mapping: otlp.LogMapping, *, now: datetime | None = None
) -> Received:
    now = now or utcnow()
    out = Received(rejected=mapping.rejected, messages=list(mapping.messages))
    records = [dict(r, system=slug_of(str(r.get("system", "")))) for r in mapping.interactions]
    traces = {r["trace_id"] for r in records if r.get("trace_id")}
    traces |= {e.trace_id for e in mapping.events}
    _lock_traces(db, traces)
    if records:
        _store_or_merge(db, pipeline, records, out, now)
    by_key: dict[tuple[str, str], list[otlp.MessageEvent]] = defaultdict(list)
    for event in mapping.events:
        by_key[event.key].append(event)
    stored = _stored(db, by_key)
    for key, events in by_key.items():
        row = stored.get(key)
        if row is None:  # the span has not come yet: the events wait for it
            for event in events:
                _keep(db, "message", key, event.as_dict())
            out.pending += len(events)
            continue
        merged = otlp.merge_events(ledger.record_of(row), events)
        out.signals += _merge_into(db, pipeline, row, merged, now)
        out.merged += 1
    return out
