"""Helpers for ledger tests: a system in the inventory and interaction records."""

from __future__ import annotations

import gzip
from collections.abc import Callable
from typing import Any

import orjson
from fastapi.testclient import TestClient
from httpx import Response

Auth = Callable[[str], dict[str, str]]


def add_system(
    client: TestClient, auth: Auth, slug: str = "support-bot", **extra: Any
) -> dict[str, Any]:
    body = {"slug": slug, "name": slug.replace("-", " ").title(), "criticality": "high", **extra}
    r = client.post("/api/v1/inventory/systems", json=body, headers=auth("admin"))
    assert r.status_code == 201, r.text
    result: dict[str, Any] = r.json()
    return result


def record(i: int = 0, system: str = "support-bot", **extra: Any) -> dict[str, Any]:
    return {
        "id": f"rec-{i}",
        "system": system,
        "started_at": "2026-11-27T10:00:00Z",
        "user_id": f"user-{i % 7}",
        "model": "gpt-4o",
        "provider": "openai",
        "messages": [{"role": "user", "content": f"Where is my order {1000 + i}?"}],
        "output": "It ships tomorrow.",
        **extra,
    }


def post(
    client: TestClient,
    headers: dict[str, str],
    records: list[dict[str, Any]] | bytes,
    *,
    ndjson: bool = False,
    gzipped: bool = False,
) -> Response:
    if isinstance(records, bytes):
        body = records
    elif ndjson:
        body = b"\n".join(orjson.dumps(r) for r in records)
    else:
        body = orjson.dumps(records)
    h = {**headers, "content-type": "application/x-ndjson" if ndjson else "application/json"}
    if gzipped:
        body = gzip.compress(body)
        h["content-encoding"] = "gzip"
    return client.post("/api/v1/interactions", content=body, headers=h)
