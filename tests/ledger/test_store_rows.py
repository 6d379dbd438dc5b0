"""Storing builds the rows itself and inserts them through the driver (``ledger.service.store``).

What it writes must be exactly what SQLAlchemy's types would have written: the same text for
times and JSON (stored times are compared as text on SQLite, and ``content_sha256`` proves what
was said), and everything must read back through the ORM as sent. These tests compare the fast
path with the ORM path column by column, on whichever database the suite runs on.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from firestop.db import sqlite_time_text, table_of
from firestop.detect.base import Finding, SystemConfig
from firestop.inventory.models import System
from firestop.ledger import service
from firestop.ledger.models import Artefact, Interaction
from firestop.ledger.schemas import InteractionIn, Message, Moderation, Retrieval, ToolCall, Usage
from tests.ledger.support import add_system, record

Auth = Callable[[str], dict[str, str]]
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

# Every field of a record, nested records with and without times, awkward values.
FULL: dict[str, Any] = record(
    1,
    ended_at="2026-11-27T12:00:02.123456+02:00",
    session_id="s-1",
    trace_id="0af7651916cd43dd8448eb211c80319c",
    span_id="b7ad6b7169203331",
    model_version="2024-08-06",
    app_version="web-3.2",
    parameters={"temperature": 0.2, "max_tokens": 512, "none": None, "big": 2**63 - 1},
    instructions_version="support-v7",
    instructions='You are the support assistant. Ünïcode — ✓ \u2028 "quotes" \\ back',
    messages=[
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi, I'm jane@example.org", "name": "jane"},
        {"role": "assistant", "content": ""},
    ],
    retrieval=[
        {"id": "kb-1", "uri": "https://kb/1", "content": "Shipping", "trust": "trusted"},
        {"title": "t", "content": "x", "score": 0.25},
        {},
    ],
    tool_calls=[
        {"name": "lookup", "arguments": '{"order": 1001}', "result": "ok"},
        {
            "id": "call-2",
            "name": "refund",
            "approval": {"status": "approved", "by": "agent-7", "at": "2026-11-27T10:00:01Z"},
            "status": "error",
            "result_trust": "untrusted",
        },
        {"name": "lookup", "started_at": "2026-11-27T11:00:00.5+01:00"},
    ],
    permissions=["orders:read"],
    moderation=[{"category": "violence", "flagged": False, "score": 0.01}],
    feedback=[{"kind": "rating", "value": 4, "at": "2026-11-27T10:05:00Z"}],
    human_decisions=[{"by": "agent-7", "decision": "edited", "at": "2026-11-28T00:00:00-05:00"}],
    downstream=[
        {"type": "customer_message", "ref": "msg-1"},
        {"type": "case_decision", "ref": "case-9", "at": "2026-11-27T10:00:03Z"},
    ],
    outcome={"decision": "approved", "favourable": True, "attributes": {"band": "b"}},
    status="error",
    error="upstream timeout",
    finish_reason="stop",
    latency_ms=0.0,
    usage={"input_tokens": 900},
    attributes={"k": "v", "n": 1.5, "flag": True, "nothing": None},
)
SHAPES: list[dict[str, Any]] = [
    FULL,
    record(2),
    record(3, usage={}, outcome={"decision": "d", "favourable": False}, finish_reason=""),
    record(4, parameters={"t": float("inf")}, retrieval=[{"score": float("nan")}]),
    record(5, messages=[], output="", latency_ms=12, feedback=[{"value": "bad"}]),
]


def reference_parts(record: InteractionIn) -> tuple[dict[str, Any], dict[str, Any]]:
    """What ``parts_of`` stood for before it copied by hand: pydantic's JSON dump, split."""
    dumped = record.model_dump(mode="json", include=_DUMPED, exclude_none=True)
    content = {
        k: dumped.get(k, "" if k in ("instructions", "output") else []) for k in _CONTENT_FIELDS
    }
    details = {
        k: v for k in _DETAIL_FIELDS if (v := dumped.get(k)) is not None and v not in ("", [], {})
    }
    return content, details


@pytest.mark.parametrize("shape", SHAPES, ids=range(len(SHAPES)))
def test_parts_are_pydantics_json_dump(shape: dict[str, Any]) -> None:
    r = InteractionIn.model_validate(shape)
    before = r.model_dump()
    content, details = service.parts_of(r)
    want_content, want_details = reference_parts(r)
    # Same text (keys in the same order, NaN and infinity as orjson writes them) and digest.
    assert orjson.dumps(content) == orjson.dumps(want_content)
    assert orjson.dumps(details) == orjson.dumps(want_details)
    assert service.digest(content) == service.digest(want_content)
    # New containers: changing them leaves the record as it was.
    content["messages"].append({"role": "user"})
    for item in content["retrieval"] + content["tool_calls"]:
        item.clear()
    for value in details.values():
        if isinstance(value, dict | list):
            value.clear()
    assert r.model_dump() == before or _nan_in(before)


def _nan_in(dumped: dict[str, Any]) -> bool:
    """NaN is not equal to itself; the NaN shape is compared through its JSON text instead."""
    return any(
        isinstance(x.get("score"), float) and math.isnan(x["score"]) for x in dumped["retrieval"]
    )


def test_every_field_is_known_to_the_hand_copy() -> None:
    """``parts_of`` copies fields by name: a field added to a record must be added there too
    (and here), or it would silently not be stored."""
    copied = {
        Message: {"role", "content", "name"},
        Retrieval: {"id", "uri", "title", "content", "trust", "score"},
        ToolCall: {"id", "name", "arguments", "result", "result_trust", "approval", "status"}
        | {"started_at"},
        Moderation: {"provider", "category", "flagged", "score", "target"},
        Usage: {"input_tokens", "output_tokens"},
    }
    for model, fields in copied.items():
        assert set(model.model_fields) == fields, model
    columns = {"id", "system", "started_at", "ended_at", "user_id", "session_id", "trace_id"}
    columns |= {"span_id", "model", "provider", "model_version", "app_version"}
    columns |= {"instructions_version", "status", "downstream"}
    assert set(InteractionIn.model_fields) == columns | _DUMPED


def test_sqlite_time_text_is_what_sqlalchemy_writes() -> None:
    from sqlalchemy.dialects import sqlite

    from firestop.db import UTCDateTime

    bind = UTCDateTime().dialect_impl(sqlite.dialect()).bind_processor(sqlite.dialect())
    assert bind is not None
    for value in (
        datetime(2026, 11, 27, 10, 0, tzinfo=UTC),
        datetime(2026, 11, 27, 10, 0, 0, 1, tzinfo=timezone(timedelta(hours=-5))),
        datetime(1970, 1, 1, tzinfo=timezone(timedelta(hours=14))),
        datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    ):
        assert sqlite_time_text(value) == bind(value)
    with pytest.raises(ValueError, match="naive"):
        sqlite_time_text(datetime(2026, 1, 1))


def _config(client: TestClient, auth: Auth, db: Session, mode: str = "raw") -> SystemConfig:
    slug = add_system(client, auth)["slug"]
    system_id = db.scalar(select(System.id).where(System.slug == slug))
    assert system_id is not None
    return SystemConfig(system_id, slug, "high", mode, (), (), {}, {})


def _orm_insert(db: Session, r: InteractionIn, config: SystemConfig, now: datetime) -> None:
    """The row as SQLAlchemy's ``insert()`` and column types write it (the former path)."""
    content, original, details = service.stored_content(r, config.content_mode, [])
    db.execute(
        insert(table_of(Interaction)),
        [
            {
                "system_id": config.id,
                "client_id": r.id,
                "started_at": r.started_at,
                "ended_at": r.ended_at,
                "received_at": now,
                "user_id": r.user_id,
                "session_id": r.session_id,
                "trace_id": r.trace_id,
                "span_id": r.span_id,
                "model": r.model,
                "provider": r.provider,
                "model_version": r.model_version,
                "app_version": r.app_version,
                "instructions_version": r.instructions_version,
                "status": r.status,
                "tools": " ".join(dict.fromkeys(t.name for t in r.tool_calls)),
                "content_mode": config.content_mode,
                "content": content,
                "content_sha256": original,
                "details": details,
            }
        ],
    )


def _as_text(db: Session, client_id: str) -> dict[str, Any]:
    """Every column as the database holds it, cast to text, except the ones that differ."""
    columns = [c.name for c in table_of(Interaction).columns if c.name not in ("id", "client_id")]
    listed = ", ".join(f"CAST({c} AS TEXT)" for c in columns)
    row = db.execute(
        text(f"SELECT {listed} FROM interactions WHERE client_id = :c"),
        {"c": client_id},
    ).one()
    return dict(zip(columns, row, strict=True))


def _types(db: Session, client_id: str) -> list[str]:
    columns = [c.name for c in table_of(Interaction).columns]
    listed = ", ".join(f"typeof({c})" for c in columns)
    query = text(f"SELECT {listed} FROM interactions WHERE client_id = :c")
    return list(db.execute(query, {"c": client_id}).one())


@pytest.mark.parametrize("mode", ["raw", "redacted", "hashed"])
def test_stored_rows_are_what_the_orm_writes_and_reads_back(
    client: TestClient, auth: Auth, db: Session, mode: str
) -> None:
    config = _config(client, auth, db, mode)
    system_id = config.id
    now = datetime(2026, 11, 27, 11, 30, 15, 250000, tzinfo=timezone(timedelta(hours=1)))
    finding = Finding(
        detector="pii",
        rule="pii.email",
        title="e-mail",
        severity="SEV3",
        category="privacy",
        path="messages[1].content",
        start=8,
        end=24,
    )
    records = [InteractionIn.model_validate(s) for s in SHAPES]
    stored = service.store(db, [(i, r, config, [finding]) for i, r in enumerate(records)], now=now)
    assert [s.new for s in stored] == [True] * len(records)
    for r in records:
        twin = r.model_copy(update={"id": f"orm-{r.id}"})
        _orm_insert(db, twin, config, now)
    db.flush()
    for r, s in zip(records, stored, strict=True):
        assert r.id is not None
        # Byte for byte what SQLAlchemy's types store (redaction aside: the twin has none).
        fast, orm = _as_text(db, r.id), _as_text(db, f"orm-{r.id}")
        if mode == "redacted" and r.id == "rec-1":
            assert "[pii.email]" in fast.pop("content") and "jane@example.org" in orm.pop("content")
        assert fast == orm
        if db.get_bind().dialect.name == "sqlite":  # and of the same type (TEXT, not BLOB)
            assert _types(db, r.id) == _types(db, f"orm-{r.id}")
        # And read back through the models as sent.
        db.expire_all()
        row = db.get(Interaction, s.interaction_id)
        assert row is not None
        content, original, details = service.stored_content(r, mode, [finding])
        assert (row.system_id, row.client_id, row.status) == (system_id, r.id, r.status)
        assert row.started_at == r.started_at and row.started_at.tzinfo == UTC
        assert row.ended_at == r.ended_at
        assert row.received_at == now and row.received_at.tzinfo == UTC
        assert (row.user_id, row.session_id, row.trace_id, row.span_id) == (
            r.user_id,
            r.session_id,
            r.trace_id,
            r.span_id,
        )
        assert (row.model, row.provider, row.model_version, row.app_version) == (
            r.model,
            r.provider,
            r.model_version,
            r.app_version,
        )
        assert row.instructions_version == r.instructions_version
        assert row.tools == " ".join(dict.fromkeys(t.name for t in r.tool_calls))
        assert (row.content_mode, row.content_sha256, row.content_reduced_at) == (
            mode,
            original,
            None,
        )
        assert orjson.dumps(row.content) == orjson.dumps(content)
        assert orjson.dumps(row.details) == orjson.dumps(details)
    artefacts = db.scalars(
        select(Artefact).where(Artefact.interaction_id == stored[0].interaction_id)
    ).all()
    assert [(a.type, a.ref, a.produced_at) for a in artefacts] == [
        ("customer_message", "msg-1", records[0].ended_at),
        ("case_decision", "case-9", datetime(2026, 11, 27, 10, 0, 3, tzinfo=UTC)),
    ]


def test_duplicates_and_batches_beyond_one_statement(
    client: TestClient, auth: Auth, db: Session
) -> None:
    config = _config(client, auth, db)
    size = service._ROWS_PER_STATEMENT * 2 + 7
    records = [InteractionIn.model_validate(record(i)) for i in range(size)]
    first = service.store(db, [(i, r, config, []) for i, r in enumerate(records)])
    assert all(s.new for s in first)
    assert len({s.interaction_id for s in first}) == size
    # Sent again, plus a record twice within the batch and one without an id.
    again = [*records[:3], records[-1], InteractionIn.model_validate(record(size))]
    again += [again[-1].model_copy(), InteractionIn.model_validate({**record(0), "id": None})]
    second = service.store(db, [(i, r, config, []) for i, r in enumerate(again)])
    assert [s.new for s in second] == [False, False, False, False, True, False, True]
    assert [s.interaction_id for s in second[:4]] == [
        first[0].interaction_id,
        first[1].interaction_id,
        first[2].interaction_id,
        first[-1].interaction_id,
    ]
    assert second[4].interaction_id == second[5].interaction_id
    assert again[-1].id is not None and len(again[-1].id) == 32
    db.commit()
    stored = db.scalar(select(Interaction).where(Interaction.client_id == f"rec-{size - 1}"))
    assert stored is not None and stored.id == first[-1].interaction_id


def test_database_errors_arrive_as_sqlalchemys(client: TestClient, auth: Auth, db: Session) -> None:
    """The API turns integrity errors into problems; the driver's own would be a 500."""
    config = _config(client, auth, db)
    gone = SystemConfig(config.id + 1000, "gone", "high", "raw", (), (), {}, {})
    r = InteractionIn.model_validate(record(1))
    with pytest.raises(IntegrityError):
        service.store(db, [(0, r, gone, [])])
