"""The dashboard's grouping and counts, and the query budget of the list pages."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import event

from firestop.access.models import Role
from firestop.incidents import people
from firestop.incidents import service as incidents
from firestop.incidents.models import ParticipantRole
from firestop.incidents.schemas import SystemVersion
from firestop.inventory import service as inventory
from firestop.inventory.schemas import (
    AssignmentIn,
    ModelIn,
    PersonIn,
    SystemIn,
    TeamIn,
    VendorIn,
)
from firestop.signals import service as signals
from tests.web.support import Login, client_log_in


def _open_incidents(app: FastAPI, *impacts: str | None) -> list[str]:
    keys = []
    with app.state.sessionmaker() as db:
        for n, impact in enumerate(impacts):
            incident = incidents.create_incident(
                db,
                policy=app.state.policy,
                actor="tests",
                title=f"Incident {n} ({impact})",
                categories=["availability"],
                factors={"impact": impact} if impact else None,
            )
            keys.append(incident.key)
        db.commit()
    return keys


def test_open_incidents_are_grouped_worst_first(
    app: FastAPI, client: TestClient, make_user: Callable[[Role], Login]
) -> None:
    _open_incidents(app, "minor", "severe", None, "major", "severe")
    with app.state.sessionmaker() as db:
        signals.submit_report(db, text="waiting one")
        signals.submit_report(db, text="waiting two")
        db.commit()
    client_log_in(client, make_user(Role.viewer))
    html = client.get("/").text
    sev1, sev2, sev4, unassessed = (
        html.index(f"{label}</span> <span>{count} open")
        for label, count in (("SEV1", 2), ("SEV2", 1), ("SEV4", 1), ("unassessed", 1))
    )
    assert sev1 < sev2 < sev4 < unassessed
    assert "<strong>5</strong>Open incidents" in html
    assert "<strong>2</strong>Open at SEV1" in html
    assert "<strong>2</strong>Signals awaiting triage" in html


@contextmanager
def counting(app: FastAPI) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        statements.append(statement)

    engine = app.state.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def _queries(app: FastAPI, client: TestClient, path: str) -> int:
    with counting(app) as statements:
        assert client.get(path).status_code == 200
    return len(statements)


def _grow(app: FastAPI, n: int) -> None:
    """Add ``n`` of everything the list pages show."""
    with app.state.sessionmaker() as db:
        start = len(inventory.list_systems(db))
        for i in range(start, start + n):
            inventory.create_team(db, entry=TeamIn(slug=f"team-{i}", name=f"Team {i}"))
            inventory.create_person(
                db, entry=PersonIn(slug=f"person-{i}", name=f"Person {i}", team=f"team-{i}")
            )
            inventory.create_vendor(db, entry=VendorIn(slug=f"vendor-{i}", name=f"Vendor {i}"))
            inventory.create_system(
                db,
                entry=SystemIn(
                    slug=f"system-{i}",
                    name=f"System {i}",
                    criticality="low",
                    owner=f"person-{i}",
                    vendors=[f"vendor-{i}"],
                    models=[ModelIn(name=f"model-{i}", version="1")],
                ),
            )
            inventory.create_assignment(
                db,
                entry=AssignmentIn(role="security", person=f"person-{i}", system=f"system-{i}"),
            )
            incident = incidents.create_incident(
                db,
                policy=app.state.policy,
                actor="tests",
                title=f"Incident {i}",
                categories=["availability"],
                systems=[SystemVersion(system=f"system-{i}")],
            )
            people.add_participant(
                db,
                key=incident.key,
                actor="tests",
                role=ParticipantRole.commander,
                username="viewer1",
            )
            signals.submit_report(db, text=f"report {i}", system=f"system-{i}")
        db.commit()


def test_list_pages_cost_the_same_few_queries_however_long(
    app: FastAPI, client: TestClient, make_user: Callable[[Role], Login]
) -> None:
    client_log_in(client, make_user(Role.viewer))
    paths = ("/", "/incidents", "/inventory", "/inventory/vendors", "/inventory/people")
    _grow(app, 2)
    small = {path: _queries(app, client, path) for path in paths}
    _grow(app, 8)
    large = {path: _queries(app, client, path) for path in paths}
    assert large == small
    assert max(small.values()) <= 12, small
