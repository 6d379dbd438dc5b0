"""Storing interactions under each system's content policy, reading them back, retention, holds.

Storing is one multi-row ``INSERT … ON CONFLICT DO NOTHING … RETURNING`` per batch: the
client's id makes a repeated record a no-op on both databases, even when two requests race.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session, selectinload

from firestop.db import table_of, utcnow
from firestop.detect.base import Finding, SystemConfig
from firestop.errors import not_found
from firestop.inventory.models import System
from firestop.ledger.models import (
    Artefact,
    ContentMode,
    ContentRead,
    Hold,
    Interaction,
    PendingTelemetry,
)
from firestop.ledger.schemas import InteractionIn, InteractionOut

# Findings of these detectors are what redaction removes before storage.
REDACTING_DETECTORS = frozenset({"pii", "secret"})
_PATH = re.compile(r"^(instructions|output)$|^(messages|retrieval|tool_calls)\[(\d+)\]\.(\w+)$")


_CONTENT_FIELDS = ("instructions", "messages", "output", "retrieval", "tool_calls")
_DETAIL_FIELDS = (
    "parameters",
    "permissions",
    "moderation",
    "feedback",
    "human_decisions",
    "outcome",
    "error",
    "finish_reason",
    "latency_ms",
    "usage",
    "attributes",
)
_DUMPED = set(_CONTENT_FIELDS + _DETAIL_FIELDS)


def parts_of(record: InteractionIn) -> tuple[dict[str, Any], dict[str, Any]]:
    """The record as plain JSON, split into the content its system's content policy governs
    and the details kept as they are. One serialisation pass for both: this runs for every
    interaction ingested."""
    dumped = record.model_dump(mode="json", include=_DUMPED, exclude_none=True)
    content = {
        k: dumped.get(k, "" if k in ("instructions", "output") else []) for k in _CONTENT_FIELDS
    }
    details = {
        k: v for k in _DETAIL_FIELDS if (v := dumped.get(k)) is not None and v not in ("", [], {})
    }
    return content, details


def digest(content: Mapping[str, Any]) -> str:
    return hashlib.sha256(orjson.dumps(content, option=orjson.OPT_SORT_KEYS)).hexdigest()


_HASHED = re.compile(r"sha256:[0-9a-f]{64}")


def hash_text(text: str) -> str:
    if _HASHED.fullmatch(text):  # already reduced (a stored record being merged again)
        return text
    return "sha256:" + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _map_texts(content: dict[str, Any], change: Callable[[str, str], str]) -> dict[str, Any]:
    """A copy of ``content`` with every text replaced by ``change(path, text)``."""
    out = dict(content)
    for key in ("instructions", "output"):
        if out.get(key):
            out[key] = change(key, out[key])
    for key, attrs in (
        ("messages", ("content",)),
        ("retrieval", ("content",)),
        ("tool_calls", ("arguments", "result")),
    ):
        items = []
        for i, item in enumerate(out.get(key, [])):
            item = dict(item)
            for attr in attrs:
                if item.get(attr):
                    item[attr] = change(f"{key}[{i}].{attr}", item[attr])
            items.append(item)
        out[key] = items
    return out


def hashed(content: dict[str, Any]) -> dict[str, Any]:
    return _map_texts(content, lambda _path, text: hash_text(text))


def redacted(content: dict[str, Any], findings: Sequence[Finding]) -> dict[str, Any]:
    """Personal data and secrets replaced by ``[rule]``, at the offsets the detectors found."""
    spans: dict[str, list[tuple[int, int, str]]] = {}
    for f in findings:
        if f.detector in REDACTING_DETECTORS and f.path and f.start is not None and f.end:
            spans.setdefault(f.path, []).append((f.start, f.end, f.rule))

    def change(path: str, text: str) -> str:
        pieces, cursor = [], 0
        for start, end, rule in sorted(spans.get(path, [])):
            if start < cursor:  # overlapping findings: the first one already covers it
                continue
            pieces += [text[cursor:start], f"[{rule}]"]
            cursor = end
        return "".join([*pieces, text[cursor:]])

    return _map_texts(content, change) if spans else content


def stored_content(
    record: InteractionIn, mode: str, findings: Sequence[Finding]
) -> tuple[dict[str, Any], str, dict[str, Any]]:
    """The content to store under the system's policy, the digest of the original, and the
    record's details."""
    content, details = parts_of(record)
    original = digest(content)
    if mode == ContentMode.hashed:
        return hashed(content), original, details
    if mode == ContentMode.redacted:
        return redacted(content, findings), original, details
    return content, original, details


@dataclass(slots=True)
class Stored:
    """One record of a batch after storing: its new id, or the id it already had."""

    index: int
    record: InteractionIn
    config: SystemConfig
    interaction_id: int
    new: bool


def _insert(db: Session) -> Any:
    name = db.get_bind().dialect.name
    return (postgresql.insert if name == "postgresql" else sqlite.insert)(table_of(Interaction))


def store(
    db: Session,
    batch: Sequence[tuple[int, InteractionIn, SystemConfig, Sequence[Finding]]],
    *,
    now: datetime | None = None,
) -> list[Stored]:
    """Store a batch (index, record, config, findings); records already stored are kept as is."""
    if not batch:
        return []
    now = now or utcnow()
    rows = []
    for _, record, config, findings in batch:
        if record.id is None:
            record.id = uuid.uuid4().hex  # no client id: this record cannot be deduplicated
        content, original, details = stored_content(record, config.content_mode, findings)
        rows.append(
            {
                "system_id": config.id,
                "client_id": record.id,
                "started_at": record.started_at,
                "ended_at": record.ended_at,
                "received_at": now,
                "user_id": record.user_id,
                "session_id": record.session_id,
                "trace_id": record.trace_id,
                "span_id": record.span_id,
                "model": record.model,
                "provider": record.provider,
                "model_version": record.model_version,
                "app_version": record.app_version,
                "instructions_version": record.instructions_version,
                "status": record.status,
                "tools": " ".join(dict.fromkeys(t.name for t in record.tool_calls)),
                "content_mode": config.content_mode,
                "content": content,
                "content_sha256": original,
                "details": details,
            }
        )
    # Executed as "insertmanyvalues": SQLAlchemy packs the rows into multi-row INSERTs within
    # each driver's parameter limits, and RETURNING names the rows that were new.
    statement = (
        _insert(db)
        .on_conflict_do_nothing(index_elements=["system_id", "client_id"])
        .returning(Interaction.id, Interaction.system_id, Interaction.client_id)
    )
    created = {(s, c): i for i, s, c in db.execute(statement, rows)}
    keys = [(config.id, record.id) for _, record, config, _ in batch]
    missing = [k for k in keys if k not in created]
    existing: dict[tuple[int, str | None], int] = {}
    for system_id in {s for s, _ in missing}:
        ids = [c for s, c in missing if s == system_id]
        existing.update(
            ((s, c), i)
            for i, s, c in db.execute(
                select(Interaction.id, Interaction.system_id, Interaction.client_id).where(
                    Interaction.system_id == system_id, Interaction.client_id.in_(ids)
                )
            )
        )
    stored: list[Stored] = []
    seen: set[tuple[int, str | None]] = set()
    artefacts = []
    for (index, record, config, _), key in zip(batch, keys, strict=True):
        # The same id twice in one batch: the first one is stored, the second is a duplicate.
        new = key in created and key not in seen
        seen.add(key)
        interaction_id = created.get(key) or existing[key]
        stored.append(Stored(index, record, config, interaction_id, new))
        if new:
            artefacts += [
                {
                    "interaction_id": interaction_id,
                    "system_id": config.id,
                    "type": d.type.value,
                    "ref": d.ref,
                    "produced_at": d.at or record.ended_at or record.started_at,
                }
                for d in record.downstream
            ]
    if artefacts:
        db.execute(insert(table_of(Artefact)), artefacts)
    return stored


def record_of(row: Interaction) -> dict[str, Any]:
    """A stored interaction back in the shape it was sent in (content as stored)."""
    content = row.content or {}
    details = row.details or {}
    data: dict[str, Any] = {
        "id": row.client_id,
        "system": row.system.slug,
        "started_at": row.started_at,
        "ended_at": row.ended_at,
        "user_id": row.user_id,
        "session_id": row.session_id,
        "trace_id": row.trace_id,
        "span_id": row.span_id,
        "model": row.model,
        "provider": row.provider,
        "model_version": row.model_version,
        "app_version": row.app_version,
        "instructions_version": row.instructions_version,
        "status": row.status,
        **{k: v for k, v in content.items() if k != "instructions" or v},
        **details,
        "downstream": [{"type": a.type, "ref": a.ref} for a in row.downstream],
    }
    return {k: v for k, v in data.items() if v is not None}


def update_record(
    db: Session,
    row: Interaction,
    record: InteractionIn,
    config: SystemConfig,
    findings: Sequence[Finding],
) -> None:
    """Replace a stored interaction's content and details with a fuller version of itself
    (telemetry about it that arrived later). Its id and client id stay."""
    content, original, details = stored_content(record, config.content_mode, findings)
    row.ended_at = record.ended_at
    row.user_id, row.session_id = record.user_id, record.session_id
    row.model, row.provider = record.model, record.provider
    row.model_version, row.app_version = record.model_version, record.app_version
    row.instructions_version, row.status = record.instructions_version, record.status
    row.tools = " ".join(dict.fromkeys(t.name for t in record.tool_calls))
    row.content, row.content_sha256 = content, original
    row.details = details
    known = {(a.type, a.ref) for a in row.downstream}
    for d in record.downstream:
        if (d.type.value, d.ref) not in known:
            row.downstream.append(
                Artefact(
                    system_id=config.id,
                    type=d.type.value,
                    ref=d.ref,
                    produced_at=d.at or record.ended_at or record.started_at,
                )
            )


# --- reading ---------------------------------------------------------------------------------


def get_interaction(db: Session, interaction_id: int) -> Interaction:
    row = db.scalar(
        select(Interaction)
        .where(Interaction.id == interaction_id)
        .options(selectinload(Interaction.system), selectinload(Interaction.downstream))
    )
    if row is None:
        raise not_found(f"no interaction {interaction_id}")
    return row


def held_ids(db: Session, ids: Iterable[int]) -> set[int]:
    wanted = list(ids)
    if not wanted:
        return set()
    return set(db.scalars(select(Hold.interaction_id).where(Hold.interaction_id.in_(wanted))))


def interaction_view(
    db: Session,
    row: Interaction,
    *,
    with_content: bool,
    reader: str,
    purpose: str = "",
    held: bool | None = None,
) -> InteractionOut:
    """The interaction as the API shows it. Reading raw content leaves a record of who read it.

    ``held`` may be given when the caller looked it up for a whole page at once.
    """
    if with_content and row.content_mode == ContentMode.raw and row.content_reduced_at is None:
        db.add(ContentRead(interaction_id=row.id, reader=reader, purpose=purpose[:500]))
    return InteractionOut(
        id=row.id,
        client_id=row.client_id,
        system=row.system.slug,
        started_at=row.started_at,
        ended_at=row.ended_at,
        received_at=row.received_at,
        user_id=row.user_id,
        session_id=row.session_id,
        model=row.model,
        provider=row.provider,
        model_version=row.model_version,
        app_version=row.app_version,
        instructions_version=row.instructions_version,
        status=row.status,
        content_mode=row.content_mode if row.content_reduced_at is None else "reduced",
        held=bool(held_ids(db, [row.id])) if held is None else held,
        content=row.content if with_content else None,
        details=row.details,
        downstream=[
            {"type": a.type, "ref": a.ref, "produced_at": a.produced_at} for a in row.downstream
        ],
    )


def list_interactions(
    db: Session,
    *,
    system: str | None = None,
    user_id: str | None = None,
    session_id: str | None = None,
    model: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    ids: Sequence[int] | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[Interaction]:
    query = select(Interaction).options(
        selectinload(Interaction.system), selectinload(Interaction.downstream)
    )
    if system is not None:
        query = query.join(System, System.id == Interaction.system_id).where(System.slug == system)
    if user_id is not None:
        query = query.where(Interaction.user_id == user_id)
    if session_id is not None:
        query = query.where(Interaction.session_id == session_id)
    if model is not None:
        query = query.where(Interaction.model == model)
    if since is not None:
        query = query.where(Interaction.started_at >= since)
    if until is not None:
        query = query.where(Interaction.started_at < until)
    if ids is not None:
        query = query.where(Interaction.id.in_(list(ids)))
    query = query.order_by(Interaction.started_at.desc(), Interaction.id.desc())
    return list(db.scalars(query.limit(limit).offset(offset)))


def content_reads(db: Session, interaction_id: int) -> list[ContentRead]:
    return list(
        db.scalars(
            select(ContentRead)
            .where(ContentRead.interaction_id == interaction_id)
            .order_by(ContentRead.id)
        )
    )


# --- holds and retention ---------------------------------------------------------------------


def hold(db: Session, *, incident_id: int, interaction_ids: Iterable[int], actor: str) -> int:
    """Keep interactions for an incident; returns how many were not held by it before."""
    wanted = set(interaction_ids)
    if not wanted:
        return 0
    already = set(
        db.scalars(
            select(Hold.interaction_id).where(
                Hold.incident_id == incident_id, Hold.interaction_id.in_(wanted)
            )
        )
    )
    fresh = sorted(wanted - already)
    if fresh:
        db.execute(
            insert(table_of(Hold)),
            [{"interaction_id": i, "incident_id": incident_id, "held_by": actor} for i in fresh],
        )
    return len(fresh)


@dataclass(slots=True)
class RetentionResult:
    dropped: int = 0
    hashed: int = 0
    kept_for_incidents: int = 0


def apply_retention(
    db: Session, *, now: datetime | None = None, batch: int = 500
) -> RetentionResult:
    """Drop or hash content older than each system's window, except what an incident holds."""
    now = now or utcnow()
    result = RetentionResult()
    systems = db.scalars(select(System).where(System.retention_days.is_not(None)))
    for system in systems:
        assert system.retention_days is not None
        cutoff = now - timedelta(days=system.retention_days)
        expired = (
            Interaction.system_id == system.id,
            Interaction.started_at < cutoff,
            Interaction.content_reduced_at.is_(None),
        )
        held = select(Hold.interaction_id)
        result.kept_for_incidents += (
            db.scalar(select(func.count()).where(*expired, Interaction.id.in_(held))) or 0
        )
        if system.after_retention == "drop":
            dropped: CursorResult[Any] = db.execute(  # type: ignore[assignment]
                update(Interaction)
                .where(*expired, Interaction.id.not_in(held))
                .values(content={}, content_reduced_at=now)
                .execution_options(synchronize_session=False)
            )
            result.dropped += dropped.rowcount or 0
            continue
        while True:
            rows = db.execute(
                select(Interaction.id, Interaction.content, Interaction.content_mode)
                .where(*expired, Interaction.id.not_in(held))
                .limit(batch)
            ).all()
            if not rows:
                break
            for row_id, content, mode in rows:
                reduced = content if mode == ContentMode.hashed else hashed(content)
                db.execute(
                    update(Interaction)
                    .where(Interaction.id == row_id)
                    .values(content=reduced, content_reduced_at=now)
                    .execution_options(synchronize_session=False)
                )
            result.hashed += len(rows)
    return result


def forget_pending(db: Session, *, older_than: timedelta, now: datetime | None = None) -> int:
    """Drop OTLP fragments whose span never came."""
    cutoff = (now or utcnow()) - older_than
    gone: CursorResult[Any] = db.execute(  # type: ignore[assignment]
        delete(PendingTelemetry).where(PendingTelemetry.received_at < cutoff)
    )
    return gone.rowcount or 0
