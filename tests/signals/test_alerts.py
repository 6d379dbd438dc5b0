"""Alerts from other tools (D3, D4): mapped by the policy, raised like detector hits, and
refused clearly when the body is hostile."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from firestop.signals.alerts import ALERT_MAX_BYTES, MAX_ALERTS, MAX_DEPTH, lookup
from firestop.signals.models import Signal
from tests.signals.support import make_system, policy_with, use_policy

Auth = Callable[[str], dict[str, str]]

DLP = {
    "policy": "Card numbers leaving",
    "application": "bot",
    "severity": "High",
    "rule_id": "R-17",
}


def _post(client: TestClient, headers: dict[str, str], body: Any, source: str = "dlp") -> Any:
    return client.post(f"/api/v1/alerts/{source}", json=body, headers=headers)


def _signal(db: Session, signal_id: int) -> Signal:
    db.expire_all()
    return db.get_one(Signal, signal_id)


def test_a_dlp_alert_becomes_a_signal(client: TestClient, auth: Auth, db: Session) -> None:
    system = make_system(db, "bot")
    response = _post(client, auth("telemetry"), DLP)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["source"] == "dlp"
    assert body["accepted"] == 1 and body["rejected"] == []
    [result] = body["results"]
    assert result["index"] == 0
    assert result["outcome"] == "new"
    assert result["system"] == "bot"
    assert result["status"] == "new"
    assert result["notes"] == []
    signal = _signal(db, result["signal"])
    assert signal.source == "alert"
    assert signal.title == "DLP alert"  # a literal in the shipped mapping
    assert signal.summary == "Card numbers leaving"
    assert signal.system_id == system.id
    assert signal.severity_hint == "SEV2"  # "High", whatever its case, through severity_map
    assert signal.category_hint == "confidentiality"
    assert (signal.detector_id, signal.rule) == ("alert", "alert.dlp")


def test_the_same_alert_again_is_deduplicated(client: TestClient, auth: Auth, db: Session) -> None:
    make_system(db, "bot")
    sender = auth("telemetry")
    first = _post(client, sender, DLP).json()["results"][0]
    again = _post(client, sender, {**DLP, "policy": "reworded"}).json()["results"][0]
    other_rule = _post(client, sender, {**DLP, "rule_id": "R-18"}).json()["results"][0]
    other_system = _post(client, sender, {**DLP, "application": "kiosk"}).json()["results"][0]
    assert again["outcome"] == "deduplicated" and again["signal"] == first["signal"]
    assert other_rule["outcome"] == "new" and other_rule["signal"] != first["signal"]
    assert other_system["outcome"] == "new"
    assert _signal(db, first["signal"]).occurrences == 2


def test_an_array_with_repeats_and_bad_items(client: TestClient, auth: Auth, db: Session) -> None:
    make_system(db, "bot")
    alerts = [DLP, {**DLP, "policy": {"nested": "object"}}, DLP, "not an object", {**DLP}]
    response = _post(client, auth("responder"), alerts)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["accepted"] == 3
    assert [r["index"] for r in body["results"]] == [0, 2, 4]
    assert sorted(r["outcome"] for r in body["results"]) == ["deduplicated", "deduplicated", "new"]
    assert len({r["signal"] for r in body["results"]}) == 1
    assert body["rejected"] == [
        {"index": 1, "errors": [{"loc": "policy", "msg": "summary: expected text, got a object"}]},
        {"index": 3, "errors": [{"loc": "(alert)", "msg": "expected a JSON object, got a string"}]},
    ]
    [signal] = db.scalars(select(Signal)).all()
    assert signal.occurrences == 3


def test_unknown_system_and_severity_are_said_not_guessed(
    client: TestClient, auth: Auth, db: Session
) -> None:
    alert = {**DLP, "application": "shadow-app", "severity": "apocalyptic"}
    [result] = _post(client, auth("telemetry"), alert).json()["results"]
    assert result["system"] is None
    assert result["notes"] == [
        "unknown system 'shadow-app'; the signal is not linked to a system",
        "severity 'apocalyptic' is not in the severity map; no hint",
    ]
    signal = _signal(db, result["signal"])
    assert signal.system_id is None
    assert signal.severity_hint is None


def test_unknown_source_names_the_configured_ones(client: TestClient, auth: Auth) -> None:
    response = _post(client, auth("telemetry"), DLP, source="splunk")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert "'splunk'" in response.json()["detail"]
    assert "configured sources: 'dlp'" in response.json()["detail"]


def test_who_may_send_alerts(client: TestClient, auth: Auth) -> None:
    assert _post(client, {}, DLP).status_code == 401
    for role in ("viewer", "legal", "reporter", "comms"):
        response = _post(client, auth(role), DLP)
        assert response.status_code == 403, role
        assert "lacks the 'ingest' (or 'triage') permission" in response.json()["detail"]
    for role in ("telemetry", "responder", "admin"):
        assert _post(client, auth(role), DLP).status_code == 200, role


def test_a_custom_mapping_with_nested_paths_and_literals(
    app: FastAPI, client: TestClient, auth: Auth, db: Session
) -> None:
    make_system(db, "claims")
    use_policy(
        app,
        policy_with(
            {
                "alerts": {
                    "status_page": {
                        "title": "incident.name",
                        "summary": "incident.updates.0.body",
                        "system": "=claims",
                        "severity": "incident.impact",
                        "category": "=availability",
                        "fingerprint": "incident.id",
                        "severity_map": {"major_outage": "SEV1", "minor": "SEV4"},
                    }
                }
            }
        ),
    )
    alert = {
        "incident": {
            "id": 4711,  # numbers are taken as text: ids often are numbers
            "name": "Model API\u202e errors\x1b[31m",
            "impact": "major_outage",
            "updates": [{"body": "Investigating"}, {"body": "older"}],
        }
    }
    [result] = _post(client, auth("telemetry"), alert, source="status_page").json()["results"]
    signal = _signal(db, result["signal"])
    # Control and bidi characters never reach a one-line title.
    assert signal.title == "Model API errors [31m"
    assert signal.summary == "Investigating"
    assert signal.severity_hint == "SEV1"
    assert signal.category_hint == "availability"
    assert result["system"] == "claims"
    renamed = {"incident": {**alert["incident"], "name": "Model API errors (update)"}}
    [again] = _post(client, auth("telemetry"), renamed, source="status_page").json()["results"]
    assert again["signal"] == result["signal"]  # the same incident id: the same problem
    # The shipped dlp source is gone from this policy.
    assert _post(client, auth("telemetry"), DLP).status_code == 404


def test_missing_title_path_falls_back_and_says_so(
    app: FastAPI, client: TestClient, auth: Auth, db: Session
) -> None:
    use_policy(app, policy_with({"alerts": {"siem": {"title": "rule.name"}}}))
    [result] = _post(client, auth("telemetry"), {"other": 1}, source="siem").json()["results"]
    assert result["notes"] == ["no title at 'rule.name'; using 'Alert from siem'"]
    assert _signal(db, result["signal"]).title == "Alert from siem"


def test_lookup() -> None:
    alert = {"a": {"b": [{"c": "deep"}], "n": None}, "x.y": "dotted key"}
    assert lookup(alert, "a.b.0.c") == "deep"
    assert lookup(alert, "a.b.1.c") is None
    assert lookup(alert, "a.b.c") is None
    assert lookup(alert, "a.n.z") is None
    assert lookup(alert, "=literal.with.dots") == "literal.with.dots"
    assert lookup(alert, "") is None
    assert lookup(alert, "x.y") is None  # paths split on every dot


# --- hostile bodies -------------------------------------------------------------------------


def _raw(client: TestClient, headers: dict[str, str], content: bytes, **extra: str) -> Any:
    return client.post(
        "/api/v1/alerts/dlp",
        content=content,
        headers={**headers, "content-type": "application/json", **extra},
    )


def _deep(levels: int) -> bytes:
    return b'{"a":' * levels + b"1" + b"}" * levels


@pytest.mark.parametrize(
    ("content", "status", "detail"),
    [
        (b"{not json", 400, "not valid JSON"),
        (b"", 400, "not valid JSON"),
        (b'"a string"', 422, "one alert as a JSON object"),
        (b"[]", 422, "no alerts"),
        (json.dumps([{}] * (MAX_ALERTS + 1)).encode(), 422, f"at most {MAX_ALERTS} alerts"),
        (_deep(MAX_DEPTH + 1), 422, "nested more than"),
        (_deep(5000), 422, "nested more than"),
        (b"[" * 100_000 + b"]" * 100_000, 422, "nested more than"),
        (b'{"policy": NaN}', 400, "not valid JSON"),
        (json.dumps({"policy": ["a"], "application": True}).encode(), 422, "could be read"),
    ],
)
def test_hostile_bodies_are_refused_clearly(
    client: TestClient, auth: Auth, db: Session, content: bytes, status: int, detail: str
) -> None:
    response = _raw(client, auth("telemetry"), content)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert detail in response.json()["detail"]
    assert db.scalars(select(Signal)).all() == []


def test_non_text_values_name_their_place(client: TestClient, auth: Auth) -> None:
    body = {"policy": ["a"], "application": True, "severity": {"x": 1}, "rule_id": None}
    response = _post(client, auth("telemetry"), body)
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"loc": "policy", "msg": "summary: expected text, got a array"},
        {"loc": "application", "msg": "system: expected text, got a boolean"},
        {"loc": "severity", "msg": "severity: expected text, got a object"},
    ]


def test_nesting_at_the_limit_is_fine(client: TestClient, auth: Auth) -> None:
    alert = dict(DLP)
    alert["extra"] = json.loads(_deep(MAX_DEPTH - 1))
    assert _post(client, auth("telemetry"), alert).status_code == 200


def test_size_limits(client: TestClient, auth: Auth, db: Session) -> None:
    sender = auth("telemetry")
    big = json.dumps({**DLP, "padding": "x" * ALERT_MAX_BYTES}).encode()
    assert _raw(client, sender, big).status_code == 413
    # A small gzip body that inflates past the limit is refused as well.
    bomb = gzip.compress(json.dumps({**DLP, "padding": "0" * (ALERT_MAX_BYTES * 2)}).encode())
    assert len(bomb) < 10_000
    assert _raw(client, sender, bomb, **{"content-encoding": "gzip"}).status_code == 413
    small = gzip.compress(json.dumps(DLP).encode())
    assert _raw(client, sender, small, **{"content-encoding": "gzip"}).status_code == 200
    form = client.post(
        "/api/v1/alerts/dlp", content=b"a=b", headers={**sender, "content-type": "text/plain"}
    )
    assert form.status_code == 415
    assert len(db.scalars(select(Signal)).all()) == 1
