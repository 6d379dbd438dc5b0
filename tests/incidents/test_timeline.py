"""The timeline records every change, in order, and cannot be rewritten."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import DatabaseError
from sqlalchemy.orm import Session

from firestop.incidents import records, service
from firestop.incidents.models import TimelineEvent
from firestop.incidents.timeline import (
    TIMELINE_APPEND_ONLY_DDL,
    TIMELINE_APPEND_ONLY_DROP_DDL,
    AppendOnlyError,
)
from tests.incidents.support import open_incident

Auth = Callable[[str], dict[str, str]]


def test_a_scripted_sequence_of_changes_is_recorded_event_by_event(
    client: TestClient, auth: Auth, app: FastAPI
) -> None:
    w = auth("responder")
    created = open_incident(client, w, factors={"impact": "minor"})
    key = created["key"]
    causes = len(app.state.policy.taxonomy.cause_candidates)
    base = f"/api/v1/incidents/{key}"

    steps = [
        ("PATCH", base, {"title": "Order history leak", "summary": "two fields"}),
        ("PATCH", base, {"title": "Order history leak"}),  # no change: no event
        ("POST", f"{base}/severity", {"factors": {"impact": "major"}}),
        ("POST", f"{base}/severity/override", {"level": "SEV1", "reason": "press"}),
        ("POST", f"{base}/status", {"status": "investigating"}),
        ("PUT", f"{base}/harm", {"dimensions": {"rights": {"level": "medium"}}}),
        ("POST", f"{base}/external-refs", {"system": "Jira", "ticket": "SEC-9"}),
        ("POST", f"{base}/claims", {"statement": "Index shared across tenants"}),
    ]
    for method, url, body in steps:
        response = client.request(method, url, json=body, headers=w)
        assert response.status_code in (200, 201), response.text
    claim_id = client.get(base, headers=w).json()["claims"][-1]["id"]
    for url, body in (
        (f"{base}/claims/{claim_id}/status", {"status": "supported"}),
        (f"{base}/claims/{claim_id}/evidence", {"ref": "https://x.example/e"}),
        (f"{base}/claims/{claim_id}/status", {"status": "confirmed", "confirmed_by": "Ana"}),
    ):
        assert client.post(url, json=body, headers=w).status_code in (200, 201)

    events = client.get(f"{base}/timeline", headers=auth("viewer")).json()
    kinds = [e["kind"] for e in events]
    assert kinds == [
        "incident.created",
        "severity.recomputed",
        *["claim.added"] * causes,
        "field.changed",  # title
        "field.changed",  # summary
        "severity.recomputed",
        "severity.overridden",
        "status.changed",
        "harm.assessed",
        "external_ref.added",
        "claim.added",
        "claim.status_changed",
        "evidence.added",
        "claim.status_changed",
    ]
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert all(e["actor"] == "token:test-responder" for e in events)
    title, summary = events[2 + causes], events[3 + causes]
    assert (title["before"], title["after"]) == (
        {"title": "Chatbot disclosed an order history"},
        {"title": "Order history leak"},
    )
    assert (summary["before"], summary["after"]) == ({"summary": ""}, {"summary": "two fields"})
    severity = events[4 + causes]
    assert (severity["before"]["level"], severity["after"]["level"]) == ("SEV4", "SEV2")
    assert severity["after"]["drivers"] == ["impact"]
    assert events[6 + causes]["before"] == {"status": "triage"}
    assert events[6 + causes]["after"] == {"status": "investigating"}
    assert events[0]["after"]["key"] == key
    times = [e["at"] for e in events]
    assert times == sorted(times)


def test_timeline_needs_a_reader(client: TestClient, auth: Auth) -> None:
    key = open_incident(client, auth("responder"))["key"]
    assert client.get(f"/api/v1/incidents/{key}/timeline").status_code == 401
    assert (
        client.get(f"/api/v1/incidents/{key}/timeline", headers=auth("reporter")).status_code == 403
    )
    missing = client.get("/api/v1/incidents/AI-1900-0001/timeline", headers=auth("viewer"))
    assert missing.status_code == 404


@pytest.fixture
def event(db: Session, app: FastAPI) -> TimelineEvent:
    incident = service.create_incident(
        db, policy=app.state.policy, actor="t", title="x", categories=["integrity"]
    )
    db.commit()
    return records.timeline(db, incident.key)[0]


def test_orm_refuses_to_change_an_event(db: Session, event: TimelineEvent) -> None:
    event.note = "rewritten history"
    with pytest.raises(AppendOnlyError):
        db.flush()
    db.rollback()


def test_orm_refuses_to_delete_an_event(db: Session, event: TimelineEvent) -> None:
    db.delete(event)
    with pytest.raises(AppendOnlyError):
        db.flush()
    db.rollback()


def test_bulk_statements_are_refused(db: Session, event: TimelineEvent) -> None:
    with pytest.raises(AppendOnlyError):
        db.execute(update(TimelineEvent).values(note="x"))
    with pytest.raises(AppendOnlyError):
        db.execute(delete(TimelineEvent).where(TimelineEvent.id == event.id))
    db.rollback()


@pytest.mark.parametrize(
    "statement",
    ["UPDATE timeline_events SET note = 'x'", "DELETE FROM timeline_events"],
)
def test_database_triggers_refuse_raw_sql(
    db: Session, event: TimelineEvent, statement: str
) -> None:
    with pytest.raises(DatabaseError, match="append-only"):
        db.connection().execute(text(statement))
    db.rollback()
    kept = db.scalar(select(TimelineEvent.kind).where(TimelineEvent.id == event.id))
    assert kept == "incident.created"


def test_trigger_ddl_is_offered_for_both_databases() -> None:
    assert (
        set(TIMELINE_APPEND_ONLY_DDL)
        == set(TIMELINE_APPEND_ONLY_DROP_DDL)
        == {
            "sqlite",
            "postgresql",
        }
    )
    for statements in TIMELINE_APPEND_ONLY_DDL.values():
        assert all("timeline_events" in s for s in statements if "TRIGGER" in s)
