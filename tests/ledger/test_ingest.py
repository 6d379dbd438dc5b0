"""Native ingest: JSON and NDJSON batches, gzip, limits, partial success, idempotency."""

from __future__ import annotations

import gzip
import json
import threading
from collections.abc import Callable

import orjson
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from firestop.ledger.models import Artefact, Interaction
from tests.ledger.support import add_system, post, record

Auth = Callable[[str], dict[str, str]]


@pytest.fixture
def telemetry(client: TestClient, auth: Auth) -> dict[str, str]:
    add_system(client, auth)
    return auth("telemetry")


def count(db: Session) -> int:
    db.expire_all()
    return db.scalar(select(func.count()).select_from(Interaction)) or 0


def test_a_json_batch_is_stored_with_every_field(
    client: TestClient, telemetry: dict[str, str], db: Session
) -> None:
    full = record(
        1,
        ended_at="2026-11-27T10:00:02Z",
        session_id="s-1",
        model_version="2024-08-06",
        app_version="web-3.2",
        parameters={"temperature": 0.2, "max_tokens": 512},
        instructions_version="support-v7",
        instructions="You are the support assistant.",
        retrieval=[
            {"id": "kb-1", "uri": "https://kb/1", "content": "Shipping", "trust": "trusted"}
        ],
        tool_calls=[
            {
                "name": "refund",
                "arguments": '{"order": 1001}',
                "result": "ok",
                "approval": {"status": "approved", "by": "agent-7"},
            }
        ],
        permissions=["orders:read"],
        moderation=[{"category": "violence", "flagged": False, "score": 0.01}],
        feedback=[{"kind": "thumbs", "value": False, "comment": "wrong"}],
        human_decisions=[{"by": "agent-7", "decision": "edited"}],
        downstream=[
            {"type": "customer_message", "ref": "msg-1"},
            {"type": "case_decision", "ref": "case-9"},
        ],
        latency_ms=812.5,
        usage={"input_tokens": 900, "output_tokens": 40},
    )
    r = post(client, telemetry, [full])
    assert r.status_code == 200, r.text
    assert r.json() == {
        "accepted": 1,
        "duplicates": 0,
        "rejected": [],
        "signals": r.json()["signals"],
        "partial": False,
    }
    row = db.scalar(select(Interaction))
    assert row is not None
    assert (row.client_id, row.user_id, row.session_id) == ("rec-1", "user-1", "s-1")
    assert (row.model, row.model_version, row.instructions_version) == (
        "gpt-4o",
        "2024-08-06",
        "support-v7",
    )
    assert row.tools == "refund"
    assert row.content["tool_calls"][0]["approval"] == {"status": "approved", "by": "agent-7"}
    assert row.content["retrieval"][0]["trust"] == "trusted"
    assert row.details["usage"] == {"input_tokens": 900, "output_tokens": 40}
    assert row.details["parameters"] == {"temperature": 0.2, "max_tokens": 512}
    artefacts = db.scalars(select(Artefact).order_by(Artefact.id)).all()
    assert [(a.type, a.ref) for a in artefacts] == [
        ("customer_message", "msg-1"),
        ("case_decision", "case-9"),
    ]


def test_ndjson_and_gzip(client: TestClient, telemetry: dict[str, str], db: Session) -> None:
    r = post(client, telemetry, [record(i) for i in range(30)], ndjson=True, gzipped=True)
    assert r.status_code == 200, r.text
    assert r.json()["accepted"] == 30
    assert count(db) == 30


def test_invalid_records_are_reported_by_index_and_the_rest_kept(
    client: TestClient, telemetry: dict[str, str], db: Session
) -> None:
    batch = [
        record(0),
        {"system": "support-bot"},  # no started_at
        record(2, system="unknown-system"),
        record(3, started_at="2026-11-27T10:00:00"),  # no time zone
        record(4, surprise="field"),
        record(5),
    ]
    r = post(client, telemetry, batch)
    assert r.status_code == 200
    body = r.json()
    assert body["accepted"] == 2 and body["partial"] is True
    rejected = {item["index"]: item for item in body["rejected"]}
    assert sorted(rejected) == [1, 2, 3, 4]
    assert rejected[1]["errors"][0]["loc"] == "started_at"
    assert "unknown system 'unknown-system'" in rejected[2]["errors"][0]["msg"]
    assert rejected[2]["id"] == "rec-2"
    assert "time zone" in rejected[3]["errors"][0]["msg"]
    assert rejected[4]["errors"][0]["loc"] == "surprise"
    assert count(db) == 2


@pytest.mark.parametrize(
    ("value", "where"),
    [
        (b"NaN", b'"parameters": {"temperature": NaN}'),
        (b"1e400", b'"parameters": {"temperature": 1e400}'),
        (b"-Infinity", b'"moderation": [{"category": "hate", "score": -Infinity}]'),
        (b"NaN", b'"feedback": [{"value": NaN}]'),
    ],
)
def test_numbers_json_cannot_hold_refuse_the_body_as_before(
    client: TestClient, telemetry: dict[str, str], db: Session, value: bytes, where: bytes
) -> None:
    # Valid batches are validated straight from the JSON text, by a parser that would read
    # NaN and 1e400; the answer must still be the strict parser's.
    good = orjson.dumps(record(0))
    bad = orjson.dumps(record(1))[:-1] + b", " + where + b"}"
    r = post(client, telemetry, b"[" + good + b"," + bad + b"]")
    assert r.status_code == 400, r.text
    assert r.json()["detail"] == "the body is not valid JSON"
    assert count(db) == 0


def test_a_valid_batch_and_the_record_by_record_path_store_the_same(
    client: TestClient, telemetry: dict[str, str], db: Session
) -> None:
    base = record(0, parameters={"temperature": 0.5, "seed": 7, "stop": "x"}, latency_ms=12.5)
    assert (
        post(client, telemetry, [{**base, "id": f"a-{i}"} for i in range(4)]).json()["accepted"]
        == 4
    )
    # One invalid record sends the whole body down the record-by-record path.
    slow = [{**base, "id": f"b-{i}"} for i in range(4)] + [{"system": "support-bot"}]
    r = post(client, telemetry, slow)
    assert r.json()["accepted"] == 4 and [x["index"] for x in r.json()["rejected"]] == [4]
    db.expire_all()
    rows = {row.client_id: row for row in db.scalars(select(Interaction))}
    for i in range(4):
        fast, other = rows[f"a-{i}"], rows[f"b-{i}"]
        assert fast.details == other.details and fast.content == other.content
        assert (fast.started_at, fast.user_id, fast.model) == (
            other.started_at,
            other.user_id,
            other.model,
        )
    assert rows["a-0"].details["parameters"] == {"temperature": 0.5, "seed": 7, "stop": "x"}


def test_a_bad_ndjson_line_loses_only_itself(
    client: TestClient, telemetry: dict[str, str], db: Session
) -> None:
    body = orjson.dumps(record(0)) + b"\n{not json\n" + orjson.dumps(record(1)) + b"\n"
    r = post(client, telemetry, body, ndjson=True)
    assert r.status_code == 200
    assert r.json()["accepted"] == 2
    assert r.json()["rejected"][0]["index"] == 1
    assert "line 2" in r.json()["rejected"][0]["errors"][0]["loc"]


def test_sending_again_changes_nothing(
    client: TestClient, telemetry: dict[str, str], db: Session
) -> None:
    batch = [record(i) for i in range(5)]
    assert post(client, telemetry, batch).json()["duplicates"] == 0
    again = post(client, telemetry, [*batch, record(5), record(5)]).json()
    assert (again["accepted"], again["duplicates"]) == (7, 6)
    assert count(db) == 6


def test_concurrent_duplicates_are_stored_once(
    app: FastAPI, client: TestClient, telemetry: dict[str, str], db: Session
) -> None:
    batch = [record(i) for i in range(50)]
    results: list[int] = []

    def send() -> None:
        with TestClient(app) as c:
            results.append(post(c, telemetry, batch).status_code)

    threads = [threading.Thread(target=send) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [200] * 4
    assert count(db) == 50


def test_unreadable_bodies_get_clear_errors(client: TestClient, telemetry: dict[str, str]) -> None:
    r = post(client, telemetry, b"[{")
    assert r.status_code == 400
    assert r.headers["content-type"] == "application/problem+json"
    assert "not valid JSON" in r.json()["detail"]
    r = post(client, telemetry, b'"a string"')
    assert r.status_code == 422 and "JSON array" in r.json()["detail"]
    r = client.post(
        "/api/v1/interactions", content=b"x", headers={**telemetry, "content-type": "text/csv"}
    )
    assert r.status_code == 415
    r = client.post(
        "/api/v1/interactions",
        content=b"not gzip",
        headers={**telemetry, "content-type": "application/json", "content-encoding": "gzip"},
    )
    assert r.status_code == 422 and "gzip" in r.json()["detail"]
    r = client.post(
        "/api/v1/interactions",
        content=b"[]",
        headers={**telemetry, "content-type": "application/json", "content-encoding": "br"},
    )
    assert r.status_code == 415


def test_every_member_of_a_multi_member_gzip_body_is_read(
    client: TestClient, telemetry: dict[str, str], db: Session
) -> None:
    """Concatenated gzip members are one body (RFC 1952); nothing after the first is dropped."""
    lines = [orjson.dumps(record(i)) + b"\n" for i in range(6)]
    body = gzip.compress(b"".join(lines[:3])) + gzip.compress(b"".join(lines[3:]))
    r = client.post(
        "/api/v1/interactions",
        content=body,
        headers={**telemetry, "content-type": "application/x-ndjson", "content-encoding": "gzip"},
    )
    assert r.status_code == 200 and r.json()["accepted"] == 6
    assert count(db) == 6
    truncated = gzip.compress(b"".join(lines))[:-12]
    r = client.post(
        "/api/v1/interactions",
        content=truncated,
        headers={**telemetry, "content-type": "application/x-ndjson", "content-encoding": "gzip"},
    )
    assert r.status_code == 422 and "truncated" in r.json()["detail"]


def test_size_limits_before_and_after_decompression(
    app: FastAPI, client: TestClient, telemetry: dict[str, str], db: Session
) -> None:
    app.state.settings.ingest_max_bytes = 50_000
    big = [record(i, output="x" * 1000) for i in range(60)]
    r = post(client, telemetry, big)
    assert r.status_code == 413
    assert "50000 bytes" in r.json()["detail"]
    # A small gzip body that inflates past the limit (a "zip bomb") is refused as well.
    bomb = gzip.compress(b"[" + b" " * 5_000_000 + b"]")
    assert len(bomb) < 50_000
    r = client.post(
        "/api/v1/interactions",
        content=bomb,
        headers={**telemetry, "content-type": "application/json", "content-encoding": "gzip"},
    )
    assert r.status_code == 413
    assert count(db) == 0
    assert post(client, telemetry, big[:10]).status_code == 200


def test_ingest_needs_the_ingest_permission(client: TestClient, auth: Auth) -> None:
    add_system(client, auth)
    assert post(client, {}, [record()]).status_code == 401
    assert post(client, auth("viewer"), [record()]).status_code == 403
    assert post(client, auth("admin"), [record()]).status_code == 200


def test_hostile_values_are_bounded(client: TestClient, telemetry: dict[str, str]) -> None:
    batch = [
        record(1, messages=[{"role": "root", "content": "x"}]),
        record(2, started_at="99999-01-01T00:00:00Z"),
        record(3, id="x" * 300),
        record(4, output="\x00\u202e<script>alert(1)</script>"),
    ]
    # An integer beyond 64 bits is read as a float rather than breaking storage.
    body = json.dumps([record(0, parameters={"n": 2**70}), *batch]).encode()
    r = post(client, telemetry, body)
    assert r.status_code == 200
    body = r.json()
    assert sorted(item["index"] for item in body["rejected"]) == [1, 2, 3]
    assert body["accepted"] == 2


def test_reading_content_is_recorded(
    client: TestClient, telemetry: dict[str, str], auth: Auth
) -> None:
    post(client, telemetry, [record(1)])
    listed = client.get("/api/v1/interactions", headers=auth("viewer")).json()
    assert listed[0]["content"] is None
    interaction = listed[0]["id"]
    assert (
        client.get(
            f"/api/v1/interactions/{interaction}/content", headers=auth("viewer")
        ).status_code
        == 403
    )
    responder = auth("responder")
    r = client.get(
        f"/api/v1/interactions/{interaction}/content?purpose=INC triage", headers=responder
    )
    assert r.status_code == 200
    assert r.json()["content"]["messages"][0]["content"] == "Where is my order 1001?"
    reads = client.get(f"/api/v1/interactions/{interaction}/reads", headers=responder).json()
    assert len(reads) == 1
    assert reads[0]["reader"].startswith("token:") and reads[0]["purpose"] == "INC triage"


def test_a_system_added_after_a_rejection_is_usable_at_once(
    client: TestClient, auth: Auth, db: Session
) -> None:
    telemetry = auth("telemetry")
    first = post(client, telemetry, [record(1)]).json()
    assert first["accepted"] == 0 and "unknown system" in first["rejected"][0]["errors"][0]["msg"]
    add_system(client, auth)
    assert post(client, telemetry, [record(1)]).json()["accepted"] == 1


def test_a_process_works_on_one_batch_at_a_time(
    app: FastAPI, telemetry: dict[str, str], monkeypatch: pytest.MonkeyPatch, db: Session
) -> None:
    """With ``ingest_concurrency`` 1 a process works on one batch at a time instead of
    interleaving them all (which makes every one of them slow); the others wait and all land."""
    import asyncio
    import time

    import httpx

    from firestop.ledger import routes

    app.state.settings.ingest_concurrency = 1
    running, overlap, order = [0], [0], []
    lock = threading.Lock()
    real = routes.ingest

    def slow_ingest(*args: object, **kwargs: object) -> object:
        with lock:
            running[0] += 1
            overlap[0] = max(overlap[0], running[0])
        time.sleep(0.05)
        try:
            result = real(*args, **kwargs)  # type: ignore[arg-type]
            order.append(result.accepted)
            return result
        finally:
            with lock:
                running[0] -= 1

    monkeypatch.setattr(routes, "ingest", slow_ingest)

    async def main() -> list[int]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:

            async def send(n: int) -> int:
                await asyncio.sleep(0.01 * n)  # arrive in this order
                batch = [record(100 * n + i) for i in range(n)]
                r = await c.post("/api/v1/interactions", json=batch, headers=telemetry)
                return r.status_code

            return list(await asyncio.gather(*(send(n) for n in (1, 2, 3, 4))))

    assert asyncio.run(main()) == [200] * 4
    assert overlap[0] == 1
    assert sorted(order) == [1, 2, 3, 4]
    assert count(db) == 10
