"""The incident lifecycle: allowed moves, forbidden ones, outcomes and stage times."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from firestop.incidents import records
from firestop.incidents.rules import INCIDENT_NEXT
from tests.incidents.support import open_incident

Auth = Callable[[str], dict[str, str]]

# How to reach each status from triage along the normal path.
PATH = ["investigating", "contained", "recovering", "monitoring", "closed"]
REASON = "the refunds started again"


def _move(client: TestClient, headers: dict[str, str], key: str, **body: Any) -> Any:
    return client.post(f"/api/v1/incidents/{key}/status", json=body, headers=headers)


def _incident_in(client: TestClient, headers: dict[str, str], status: str) -> str:
    key: str = open_incident(client, headers)["key"]
    if status == "triage":
        return key
    for step in PATH[: PATH.index(status) + 1]:
        assert _move(client, headers, key, status=step).status_code == 200
    return key


@pytest.fixture
def writer(auth: Auth) -> dict[str, str]:
    return auth("responder")


ALLOWED = [
    ("triage", "investigating", {}),
    ("investigating", "contained", {}),
    ("contained", "recovering", {}),
    ("recovering", "monitoring", {}),
    ("monitoring", "closed", {}),
    ("monitoring", "recovering", {"reason": REASON}),
    ("monitoring", "contained", {"reason": REASON}),
    ("triage", "closed", {"outcome": "near_miss", "reason": "the filter caught it"}),
    ("triage", "closed", {"outcome": "not_an_incident", "reason": "expected behaviour"}),
]


@pytest.mark.parametrize(("start", "target", "extra"), ALLOWED)
def test_allowed_transitions(
    client: TestClient,
    writer: dict[str, str],
    db: Session,
    start: str,
    target: str,
    extra: dict[str, str],
) -> None:
    key = _incident_in(client, writer, start)
    response = _move(client, writer, key, status=target, **extra)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == target
    assert body["outcome"] == extra.get("outcome")
    event = records.timeline(db, key)[-1]
    assert event.kind == "status.changed"
    assert event.before == {"status": start}
    assert event.after is not None and event.after["status"] == target
    assert event.note == extra.get("reason")
    assert event.actor == "token:test-responder"


def test_every_allowed_move_is_tested() -> None:
    tested = {(s, t) for s, t, _ in ALLOWED}
    assert tested == {(s.value, t.value) for s, targets in INCIDENT_NEXT.items() for t in targets}


FORBIDDEN = [
    ("triage", "contained"),
    ("triage", "monitoring"),
    ("triage", "recovering"),
    ("triage", "triage"),
    ("investigating", "triage"),
    ("investigating", "recovering"),
    ("investigating", "closed"),
    ("investigating", "investigating"),
    ("contained", "investigating"),
    ("contained", "monitoring"),
    ("contained", "closed"),
    ("recovering", "contained"),
    ("recovering", "closed"),
    ("monitoring", "investigating"),
    ("monitoring", "triage"),
    ("closed", "triage"),
    ("closed", "investigating"),
    ("closed", "monitoring"),
]


@pytest.mark.parametrize(("start", "target"), FORBIDDEN)
def test_forbidden_transitions_name_the_allowed_ones(
    client: TestClient, writer: dict[str, str], start: str, target: str
) -> None:
    key = _incident_in(client, writer, start)
    response = _move(client, writer, key, status=target, reason="because")
    assert response.status_code == 409
    assert response.headers["content-type"].startswith("application/problem+json")
    detail = response.json()["detail"]
    assert f"from {start} to {target}" in detail
    from firestop.incidents.models import IncidentStatus

    allowed = INCIDENT_NEXT[IncidentStatus(start)]
    for option in allowed:
        assert option.value in detail.split("allowed next:")[1]
    if not allowed:
        assert "final" in detail
    assert client.get(f"/api/v1/incidents/{key}", headers=writer).json()["status"] == start


@pytest.mark.parametrize("outcome", ["near_miss", "not_an_incident"])
def test_outcomes_only_from_triage(
    client: TestClient, writer: dict[str, str], outcome: str
) -> None:
    key = _incident_in(client, writer, "monitoring")
    response = _move(client, writer, key, status="closed", outcome=outcome, reason="x")
    assert response.status_code == 409
    assert "only" in response.json()["detail"] and "triage" in response.json()["detail"]
    investigating = _incident_in(client, writer, "investigating")
    assert (
        _move(
            client, writer, investigating, status="closed", outcome=outcome, reason="x"
        ).status_code
        == 409
    )


@pytest.mark.parametrize(
    "body",
    [
        {"status": "closed"},
        {"status": "closed", "reason": "no outcome"},
        {"status": "closed", "outcome": "near_miss"},
        {"status": "closed", "outcome": "near_miss", "reason": "  "},
        {"status": "closed", "outcome": "resolved", "reason": "x"},
    ],
)
def test_closing_from_triage_needs_outcome_and_reason(
    client: TestClient, writer: dict[str, str], body: dict[str, str]
) -> None:
    key = _incident_in(client, writer, "triage")
    response = _move(client, writer, key, **body)
    assert response.status_code == 422, response.text


@pytest.mark.parametrize("target", ["recovering", "contained"])
def test_going_back_needs_a_reason(client: TestClient, writer: dict[str, str], target: str) -> None:
    key = _incident_in(client, writer, "monitoring")
    assert _move(client, writer, key, status=target).status_code == 422
    assert _move(client, writer, key, status=target, reason=" ").status_code == 422


def test_stage_times_are_kept_from_first_entry(client: TestClient, writer: dict[str, str]) -> None:
    key = _incident_in(client, writer, "monitoring")
    first = client.get(f"/api/v1/incidents/{key}", headers=writer).json()
    for stamp in ("acknowledged_at", "contained_at", "recovering_at", "monitoring_at"):
        assert first[stamp] is not None, stamp
    assert first["closed_at"] is None
    assert first["acknowledged_at"] <= first["contained_at"] <= first["monitoring_at"]
    _move(client, writer, key, status="contained", reason=REASON)
    for step in ("recovering", "monitoring", "closed"):
        assert _move(client, writer, key, status=step).status_code == 200
    last = client.get(f"/api/v1/incidents/{key}", headers=writer).json()
    assert last["contained_at"] == first["contained_at"]
    assert last["closed_at"] is not None and last["outcome"] is None
    assert last["allowed_transitions"] == []


def test_near_miss_closure_records_outcome_and_reason(
    client: TestClient, writer: dict[str, str]
) -> None:
    key = _incident_in(client, writer, "triage")
    body = _move(
        client, writer, key, status="closed", outcome="near_miss", reason="reviewer caught it"
    ).json()
    assert body["outcome"] == "near_miss"
    assert body["closure_reason"] == "reviewer caught it"
    assert body["closed_at"] is not None and body["acknowledged_at"] is None


def test_changing_status_needs_incident_write(client: TestClient, auth: Auth) -> None:
    key = _incident_in(client, auth("responder"), "triage")
    assert _move(client, {}, key, status="investigating").status_code == 401
    assert _move(client, auth("viewer"), key, status="investigating").status_code == 403
    assert _move(client, auth("legal"), key, status="investigating").status_code == 403
