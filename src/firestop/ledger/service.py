"""Storing interactions under each system's content policy, reading them back, retention, holds.

Storing is one multi-row ``INSERT … ON CONFLICT DO NOTHING … RETURNING`` per batch: the
client's id makes a repeated record a no-op on both databases, even when two requests race.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import re
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from pydantic import BaseModel
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.engine import Connection, CursorResult
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, selectinload

from firestop.db import json_bytes, json_text, sqlite_time_text, table_of, utcnow
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
from firestop.ledger.schemas import (
    InteractionIn,
    InteractionOut,
    Message,
    Moderation,
    Retrieval,
    ToolCall,
    Usage,
)

# Findings of these detectors are what redaction removes before storage.
REDACTING_DETECTORS = frozenset({"pii", "secret"})
_PATH = re.compile(r"^(instructions|output)$|^(messages|retrieval|tool_calls)\[(\d+)\]\.(\w+)$")


def _dumped(item: BaseModel) -> dict[str, Any]:
    """A nested record as the JSON the ledger stores: what ``parts_of`` copies by hand."""
    return item.model_dump(mode="json", exclude_none=True)


# The helpers below read a record's fields from its ``__dict__`` (``vars``), where pydantic
# keeps them: attribute access on a pydantic model goes through its ``__getattr__`` hook and
# costs several times a dictionary lookup, and this runs some forty times per interaction.


def _message(m: Message) -> dict[str, Any]:
    f = vars(m)
    out: dict[str, Any] = {"role": f["role"], "content": f["content"]}
    if f["name"] is not None:
        out["name"] = f["name"]
    return out


def _retrieval(r: Retrieval) -> dict[str, Any]:
    f = vars(r)
    out: dict[str, Any] = {}
    for key in ("id", "uri", "title"):
        if f[key] is not None:
            out[key] = f[key]
    out["content"] = f["content"]
    out["trust"] = f["trust"].value
    if f["score"] is not None:
        out["score"] = f["score"]
    return out


def _tool_call(t: ToolCall) -> dict[str, Any]:
    f = vars(t)
    if f["approval"] is not None or f["started_at"] is not None:
        return _dumped(t)  # times: pydantic's own JSON form of them, which is what is stored
    out: dict[str, Any] = {}
    if f["id"] is not None:
        out["id"] = f["id"]
    out["name"] = f["name"]
    out["arguments"] = f["arguments"]
    out["result"] = f["result"]
    out["result_trust"] = f["result_trust"].value
    out["status"] = f["status"]
    return out


def _moderation(m: Moderation) -> dict[str, Any]:
    f = vars(m)
    out: dict[str, Any] = {}
    if f["provider"] is not None:
        out["provider"] = f["provider"]
    out["category"] = f["category"]
    out["flagged"] = f["flagged"]
    if f["score"] is not None:
        out["score"] = f["score"]
    out["target"] = f["target"]
    return out


def _usage(u: Usage) -> dict[str, Any]:
    return {k: v for k, v in vars(u).items() if v is not None}


def parts_of(record: InteractionIn) -> tuple[dict[str, Any], dict[str, Any]]:
    """The record as plain JSON, split into the content its system's content policy governs
    and the details kept as they are.

    The same dictionaries as ``record.model_dump(mode="json", exclude_none=True)`` restricted to
    those fields (keys in the same order, so the stored text is the same too), built by hand:
    this runs for every interaction ingested, and pydantic's serializer costs ~20 µs a record
    where copying the common shapes (messages, retrieval, plain tool calls, moderation, usage,
    scalars) costs a few. Nested records holding times (approvals, timed tool calls, feedback,
    decisions) and outcomes go through pydantic, whose JSON form of a time is the stored one.
    Everything returned is a new container: the caller may change it, and the record stays as
    it was. tests/ledger/test_store_rows.py holds this equal to ``model_dump``.
    """
    f = vars(record)
    content: dict[str, Any] = {
        "instructions": f["instructions"],
        "messages": [_message(m) for m in f["messages"]],
        "output": f["output"],
        "retrieval": [_retrieval(r) for r in f["retrieval"]],
        "tool_calls": [_tool_call(t) for t in f["tool_calls"]],
    }
    # Empty details are left out, as before: "", [], {} and None.
    details: dict[str, Any] = {}
    if f["parameters"]:
        details["parameters"] = dict(f["parameters"])
    if f["permissions"]:
        details["permissions"] = list(f["permissions"])
    if f["moderation"]:
        details["moderation"] = [_moderation(m) for m in f["moderation"]]
    for key in ("feedback", "human_decisions"):
        if f[key]:
            details[key] = [_dumped(item) for item in f[key]]
    if f["outcome"] is not None:
        details["outcome"] = _dumped(f["outcome"])
    for key in ("error", "finish_reason"):
        if f[key]:
            details[key] = f[key]
    if f["latency_ms"] is not None:
        details["latency_ms"] = f["latency_ms"]
    if f["usage"] is not None and (usage := _usage(f["usage"])):
        details["usage"] = usage
    if f["attributes"]:
        details["attributes"] = dict(f["attributes"])
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


# The columns ``store`` writes, in the order of its rows; the others take their defaults
# (``id`` from the database, ``content_reduced_at`` NULL).
_COLUMNS = (
    "system_id",
    "client_id",
    "started_at",
    "ended_at",
    "received_at",
    "user_id",
    "session_id",
    "trace_id",
    "span_id",
    "model",
    "provider",
    "model_version",
    "app_version",
    "instructions_version",
    "status",
    "tools",
    "content_mode",
    "content",
    "content_sha256",
    "details",
)
_JSON_COLUMNS = frozenset({"content", "details"})
# Rows per SQLite INSERT: 20 parameters each stays far below its limit of 32,766.
_ROWS_PER_STATEMENT = 500


@functools.lru_cache(maxsize=8)
def _sqlite_insert_sql(rows: int) -> str:
    """``INSERT … VALUES (…), (…) ON CONFLICT DO NOTHING RETURNING`` for ``rows`` rows.

    JSON arrives as UTF-8 bytes and is cast to the TEXT that SQLAlchemy's JSON type stores.
    sqlite3 keeps the compiled statement per text, so a batch size seen before costs no parse.
    """
    marks = ", ".join("CAST(? AS TEXT)" if c in _JSON_COLUMNS else "?" for c in _COLUMNS)
    values = ", ".join([f"({marks})"] * rows)
    # Only names and placeholders from this module go into the text; values are bound.
    return (
        f"INSERT INTO {table_of(Interaction).name} ({', '.join(_COLUMNS)}) "  # noqa: S608
        f"VALUES {values} "
        "ON CONFLICT (system_id, client_id) DO NOTHING RETURNING id, system_id, client_id"
    )


def _pg_insert_sql() -> str:
    """``INSERT … VALUES (one row) ON CONFLICT DO NOTHING RETURNING``, for ``executemany``.

    One short statement run once per row in psycopg's pipeline mode (one round trip for the
    batch, prepared on the server after a few batches), rather than one ``VALUES`` list of
    500 rows: psycopg parses every ``%s`` of a query's text in Python and caches only short
    queries, and parsing the ~10,000 of a 500-row list cost more than everything else in
    storing (~180 µs an interaction). JSON arrives as text cast to ``json``, which stores
    exactly that text.
    """
    marks = ", ".join("%s::json" if c in _JSON_COLUMNS else "%s" for c in _COLUMNS)
    return (
        f"INSERT INTO {table_of(Interaction).name} ({', '.join(_COLUMNS)}) "  # noqa: S608
        f"VALUES ({marks}) "
        "ON CONFLICT (system_id, client_id) DO NOTHING RETURNING id, system_id, client_id"
    )


_PG_INSERT = _pg_insert_sql()


def _pg_insert_rows(connection: Connection, rows: Sequence[tuple[Any, ...]]) -> list[Any]:
    """The rows through psycopg's ``executemany(…, returning=True)``: what it returned.

    SQLAlchemy's ``executemany`` drops what the statement returns, so this uses the session
    connection's driver cursor, in the same transaction, and raises the driver's errors as
    SQLAlchemy's (an integrity error stays one to the API's error handlers).
    """
    driver_error = connection.dialect.loaded_dbapi.Error
    cursor: Any = connection.connection.cursor()
    returned: list[Any] = []
    try:
        cursor.executemany(_PG_INSERT, rows, returning=True)
        while True:
            returned += cursor.fetchall()
            if not cursor.nextset():
                return returned
    except driver_error as error:
        raise DBAPIError.instance(_PG_INSERT, None, error, driver_error) from error
    finally:
        cursor.close()


@functools.cache
def _artefact_sql(on_sqlite: bool) -> str:
    columns = ("interaction_id", "system_id", "type", "ref", "produced_at")
    mark = "?" if on_sqlite else "%s"
    return (
        f"INSERT INTO {table_of(Artefact).name} ({', '.join(columns)}) "  # noqa: S608
        f"VALUES ({', '.join(mark for _ in columns)})"
    )


def _insert_rows(db: Session, rows: Sequence[tuple[Any, ...]]) -> dict[tuple[int, str | None], int]:
    """Insert interaction rows straight through the driver; returns the new ones' ids.

    Going through SQLAlchemy's ``insert()`` cost ~100 µs an interaction, nearly all of it its
    per-parameter machinery (building and processing 20 bound values a row, type by type).
    Rows here already hold what the driver is given: times as SQLite's stored text (or
    datetimes for psycopg), JSON as the text the JSON type would write (UTF-8 bytes for
    SQLite). The statements run on the session's connection, inside its transaction, and
    errors arrive as SQLAlchemy's. Several of these inserts racing are resolved by the unique
    constraint, as before: ``ON CONFLICT DO NOTHING`` and ``RETURNING`` name the rows that
    were new. SQLite gets multi-row ``VALUES`` lists (sqlite3 keeps each compiled), PostgreSQL
    one row per execution in a pipeline (see ``_pg_insert_sql``).
    """
    connection = db.connection()
    created: dict[tuple[int, str | None], int] = {}
    if connection.dialect.name == "postgresql":
        created.update(((s, c), i) for i, s, c in _pg_insert_rows(connection, rows))
        return created
    for start in range(0, len(rows), _ROWS_PER_STATEMENT):
        chunk = rows[start : start + _ROWS_PER_STATEMENT]
        params = tuple(itertools.chain.from_iterable(chunk))
        result = connection.exec_driver_sql(_sqlite_insert_sql(len(chunk)), params)
        created.update(((s, c), i) for i, s, c in result)
    return created


def _utc(value: datetime) -> datetime:
    """A time for psycopg, checked as :class:`firestop.db.UTCDateTime` checks it."""
    if value.tzinfo is None:
        raise ValueError("naive datetime given to a UTC column")
    return value.astimezone(UTC)


def store(
    db: Session,
    batch: Sequence[tuple[int, InteractionIn, SystemConfig, Sequence[Finding]]],
    *,
    now: datetime | None = None,
    before_write: Callable[[], None] | None = None,
) -> list[Stored]:
    """Store a batch (index, record, config, findings); records already stored are kept as is.

    ``before_write`` runs once the rows are built, just before the first statement that
    writes: ingest waits for its turn to write there (see ``writers.py``), so building the rows
    does not keep another process from writing.
    """
    if not batch:
        return []
    now = now or utcnow()
    on_sqlite = db.get_bind().dialect.name == "sqlite"
    # Times and JSON as the driver is given them (see ``_insert_rows``). JSON goes to SQLite as
    # UTF-8 bytes that the statement casts to TEXT: the same stored text, without decoding
    # orjson's bytes to a str that sqlite3 then encodes back to UTF-8.
    stored_time = sqlite_time_text if on_sqlite else _utc
    as_json = json_bytes if on_sqlite else json_text
    received = stored_time(now)
    rows = []
    for _, record, config, findings in batch:
        if record.id is None:
            record.id = uuid.uuid4().hex  # no client id: this record cannot be deduplicated
        content, original, details = stored_content(record, config.content_mode, findings)
        f = vars(record)  # fields without pydantic's attribute hook (see ``parts_of``)
        ended = f["ended_at"]
        rows.append(
            (
                config.id,
                f["id"],
                stored_time(f["started_at"]),
                None if ended is None else stored_time(ended),
                received,
                f["user_id"],
                f["session_id"],
                f["trace_id"],
                f["span_id"],
                f["model"],
                f["provider"],
                f["model_version"],
                f["app_version"],
                f["instructions_version"],
                f["status"],
                " ".join(dict.fromkeys(vars(t)["name"] for t in f["tool_calls"])),
                config.content_mode,
                as_json(content),
                original,
                as_json(details),
            )
        )
    if before_write is not None:
        before_write()
    created = _insert_rows(db, rows)
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
                (
                    interaction_id,
                    config.id,
                    d.type.value,
                    d.ref,
                    stored_time(d.at or record.ended_at or record.started_at),
                )
                for d in record.downstream
            ]
    if artefacts:
        # One prepared statement, many rows (executemany): SQLAlchemy's insert() spent more
        # on its bound values than the database on the rows, as for interactions above.
        db.connection().exec_driver_sql(_artefact_sql(on_sqlite), artefacts)
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
