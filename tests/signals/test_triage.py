"""The triage queue (D4): listing signals and deciding them, with permissions."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from firestop.incidents.models import Incident, TimelineEvent
from firestop.signals import service
from firestop.signals.models import Signal
from tests.incidents.support import make_system, open_incident

Auth = Callable[[str], dict[str, str]]


@pytest.fixture
def signal_id(client: TestClient, db: Session) -> int:
    client.post(
        "/api/v1/reports",
        json={"text": "The bot promised a refund\nit was not allowed to", "contact": "a@b.example"},
    )
    found = db.scalar(select(Signal.id))
    assert found is not None
    return found


def test_reading_the_queue_needs_a_reader(client: TestClient, auth: Auth, signal_id: int) -> None:
    assert client.get("/api/v1/signals").status_code == 401
    assert client.get("/api/v1/signals", headers=auth("reporter")).status_code == 403
    response = client.get("/api/v1/signals", headers=auth("viewer"))
    assert response.status_code == 200
    [item] = response.json()
    assert item["id"] == signal_id
    assert item["status"] == "new"
    assert item["title"] == "The bot promised a refund it was not allowed to"
    assert "report_detail" not in item and "contact" not in item


def test_contact_is_shown_only_to_triagers(client: TestClient, auth: Auth, signal_id: int) -> None:
    viewer = client.get(f"/api/v1/signals/{signal_id}", headers=auth("viewer")).json()
    assert viewer["report_detail"]["contact"] is None
    assert viewer["report_detail"]["text"].startswith("The bot promised")
    responder = client.get(f"/api/v1/signals/{signal_id}", headers=auth("responder")).json()
    assert responder["report_detail"]["contact"] == "a@b.example"
    assert client.get("/api/v1/signals/99999", headers=auth("viewer")).status_code == 404


@pytest.mark.parametrize(
    ("action", "body"),
    [
        ("accept", {"categories": ["harmful_output"]}),
        ("near-miss", {"reason": "caught by the reviewer"}),
        ("dismiss", {"reason": "expected behaviour"}),
    ],
)
def test_deciding_needs_the_triage_permission(
    client: TestClient, auth: Auth, signal_id: int, action: str, body: dict[str, object]
) -> None:
    url = f"/api/v1/signals/{signal_id}/{action}"
    assert client.post(url, json=body).status_code == 401
    for role in ("viewer", "legal", "comms", "reporter"):
        response = client.post(url, json=body, headers=auth(role))
        assert response.status_code == 403, role
        assert response.headers["content-type"].startswith("application/problem+json")
    assert client.post(url, json=body, headers=auth("responder")).status_code == 200
    # Only new signals can be decided: a second decision of any kind conflicts.
    for other, other_body in (
        ("accept", {"categories": ["integrity"]}),
        ("near-miss", {"reason": "x"}),
        ("dismiss", {"reason": "y"}),
    ):
        again = client.post(
            f"/api/v1/signals/{signal_id}/{other}", json=other_body, headers=auth("admin")
        )
        assert again.status_code == 409, other
        assert "only new signals" in again.json()["detail"]


def test_accept_into_a_new_incident(client: TestClient, auth: Auth, db: Session) -> None:
    make_system(db, "support-bot")
    client.post("/api/v1/reports", json={"text": "Leaked an address", "system": "support-bot"})
    signal = db.scalars(select(Signal)).one()
    response = client.post(
        f"/api/v1/signals/{signal.id}/accept",
        json={
            "categories": ["confidentiality"],
            "factors": {"data_sensitivity": "confidential"},
            "note": "looks real",
        },
        headers=auth("responder"),
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "accepted"
    assert body["decided_by"] == "token:test-responder"
    assert body["decided_at"] is not None
    assert body["decision_reason"] == "looks real"

    incident = client.get(f"/api/v1/incidents/{body['incident']}", headers=auth("viewer")).json()
    assert incident["title"] == "Leaked an address"
    assert incident["categories"][0]["id"] == "confidentiality"
    assert [s["system"] for s in incident["systems"]] == ["support-bot"]
    assert incident["severity"]["factors"] == {"data_sensitivity": "confidential"}
    db.expire_all()
    assert datetime.fromisoformat(incident["detected_at"]) == signal.created_at

    events = client.get(
        f"/api/v1/incidents/{body['incident']}/timeline", headers=auth("viewer")
    ).json()
    last = events[-1]
    assert last["kind"] == "signal.accepted"
    assert last["entity_type"] == "signal" and last["entity_id"] == signal.id
    assert last["actor"] == "token:test-responder"
    assert last["note"] == "looks real"
    assert events[0]["kind"] == "incident.created"


def test_accept_into_an_existing_incident(client: TestClient, auth: Auth, db: Session) -> None:
    writer = auth("responder")
    key = open_incident(client, writer)["key"]
    client.post("/api/v1/reports", json={"text": "same problem again"})
    signal_id = db.scalar(select(Signal.id))
    before = db.scalar(select(TimelineEvent.seq).order_by(TimelineEvent.seq.desc()).limit(1))
    response = client.post(
        f"/api/v1/signals/{signal_id}/accept", json={"incident": key.lower()}, headers=writer
    )
    assert response.status_code == 200, response.text
    assert response.json()["incident"] == key
    assert db.scalar(select(Incident.id).where(Incident.key != key)) is None  # nothing new
    kinds = db.scalars(select(TimelineEvent.kind).where(TimelineEvent.seq > (before or 0))).all()
    assert kinds == ["signal.accepted"]
    linked = client.get("/api/v1/signals?status=accepted", headers=writer).json()
    assert [s["incident"] for s in linked] == [key]


def test_accept_checks_its_target(client: TestClient, auth: Auth, signal_id: int) -> None:
    writer = auth("responder")
    url = f"/api/v1/signals/{signal_id}/accept"
    assert client.post(url, json={"incident": "AI-1999-0001"}, headers=writer).status_code == 404
    both = client.post(
        url, json={"incident": "AI-1999-0001", "categories": ["integrity"]}, headers=writer
    )
    assert both.status_code == 422
    assert client.post(url, json={}, headers=writer).status_code == 422
    unknown = client.post(url, json={"categories": ["weather"]}, headers=writer)
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["loc"] == "categories[0]"

    key = open_incident(client, writer)["key"]
    client.post(
        f"/api/v1/incidents/{key}/status",
        json={"status": "closed", "outcome": "not_an_incident", "reason": "expected"},
        headers=writer,
    )
    closed = client.post(url, json={"incident": key}, headers=writer)
    assert closed.status_code == 409
    # Nothing was decided by the failed attempts.
    assert client.get(f"/api/v1/signals/{signal_id}", headers=writer).json()["status"] == "new"


@pytest.mark.parametrize("action", ["near-miss", "dismiss"])
@pytest.mark.parametrize("reason", [None, "", "   \n"])
def test_near_miss_and_dismiss_need_a_reason(
    client: TestClient, auth: Auth, signal_id: int, action: str, reason: str | None
) -> None:
    body = {} if reason is None else {"reason": reason}
    response = client.post(
        f"/api/v1/signals/{signal_id}/{action}", json=body, headers=auth("responder")
    )
    assert response.status_code == 422


def test_near_misses_are_listable(client: TestClient, auth: Auth, db: Session) -> None:
    for text in ("one", "two", "three"):
        client.post("/api/v1/reports", json={"text": text})
    ids = {s.summary: s.id for s in db.scalars(select(Signal))}
    writer = auth("responder")
    client.post(
        f"/api/v1/signals/{ids['one']}/near-miss",
        json={"reason": "stopped by filter"},
        headers=writer,
    )
    client.post(
        f"/api/v1/signals/{ids['two']}/dismiss", json={"reason": "duplicate"}, headers=writer
    )

    near = client.get("/api/v1/signals?status=near_miss", headers=writer).json()
    assert [(s["id"], s["decision_reason"]) for s in near] == [(ids["one"], "stopped by filter")]
    queue = client.get("/api/v1/signals?status=new", headers=writer).json()
    assert [s["id"] for s in queue] == [ids["three"]]
    assert len(client.get("/api/v1/signals", headers=writer).json()) == 3


def test_list_filters(client: TestClient, auth: Auth, db: Session) -> None:
    make_system(db, "support-bot")
    client.post("/api/v1/reports", json={"text": "linked", "system": "support-bot"})
    client.post("/api/v1/reports", json={"text": "unlinked", "system": "nope"})
    reader = auth("viewer")

    def titles(query: str) -> list[str]:
        response = client.get(f"/api/v1/signals?{query}", headers=reader)
        assert response.status_code == 200, response.text
        return [s["title"] for s in response.json()]

    assert titles("system=support-bot") == ["linked"]
    assert titles("system=nope") == []
    assert sorted(titles("source=report")) == ["linked", "unlinked"]
    assert titles("source=detector") == []
    now = datetime.now(UTC)
    since = (now - timedelta(minutes=5)).isoformat().replace("+00:00", "Z")
    until = (now + timedelta(minutes=5)).isoformat().replace("+00:00", "Z")
    assert len(titles(f"since={since}&until={until}")) == 2
    later = (now + timedelta(minutes=5)).isoformat().replace("+00:00", "Z")
    assert titles(f"since={later}") == []
    assert titles("limit=1") == ["unlinked"]  # newest first
    assert titles("limit=1&offset=1") == ["linked"]
    assert client.get("/api/v1/signals?limit=0", headers=reader).status_code == 422
    assert client.get("/api/v1/signals?status=bogus", headers=reader).status_code == 422


def test_service_decisions_record_actor_and_time(db: Session) -> None:
    report = service.submit_report(db, text="weird", channel="complaint", submitted_by=None)
    signal = report.signal
    service.dismiss_signal(db, signal_id=signal.id, actor="alice", reason="  known issue ")
    assert signal.status == "dismissed"
    assert signal.decided_by == "alice"
    assert signal.decision_reason == "known issue"
    assert signal.decided_at is not None
    assert abs(signal.decided_at - datetime.now(UTC)) < timedelta(minutes=1)
