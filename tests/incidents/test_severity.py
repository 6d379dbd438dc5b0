"""Severity: computed with reasons, recomputed on change, overridden only with a reason."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from firestop.errors import FirestopError
from firestop.incidents import records, service
from firestop.incidents.severity import override_severity, set_severity_factors
from firestop.policy.schemas import Policy
from firestop.policy.service import assess_severity, load_policy
from tests.incidents.support import open_incident

Auth = Callable[[str], dict[str, str]]


@pytest.fixture
def writer(auth: Auth) -> dict[str, str]:
    return auth("responder")


def test_severity_is_computed_with_reasons_and_route(
    client: TestClient, writer: dict[str, str]
) -> None:
    body = open_incident(
        client, writer, factors={"impact": "moderate", "affected_population": "group"}
    )
    severity = body["severity"]
    assert severity["computed"] == severity["level"] == "SEV4"
    assert severity["route"] == "log_and_route"
    assert severity["assessment"]["score"] == 5
    assert severity["assessment"]["drivers"] == ["impact", "affected_population"]
    assert "impact=moderate (+3)" in severity["assessment"]["explanation"]
    assert severity["factors"] == {"impact": "moderate", "affected_population": "group"}
    assert severity["assessment"]["policy_version"] == "firestop-default-2026.1"


def test_changing_a_factor_recomputes_and_records_before_and_after(
    client: TestClient, writer: dict[str, str], db: Session
) -> None:
    key = open_incident(client, writer, factors={"impact": "moderate"})["key"]
    response = client.post(
        f"/api/v1/incidents/{key}/severity",
        json={"factors": {"data_sensitivity": "special"}, "note": "health data found"},
        headers=writer,
    )
    assert response.status_code == 200, response.text
    severity = response.json()["severity"]
    assert severity["level"] == "SEV2"  # the special-category floor
    assert severity["route"] == "incident_team"
    assert severity["assessment"]["drivers"] == ["data_sensitivity"]
    assert "raised to SEV2" in severity["assessment"]["explanation"]

    event = records.timeline(db, key)[-1]
    assert event.kind == "severity.recomputed"
    assert event.note == "health data found"
    assert event.before is not None and event.after is not None
    assert event.before["level"] == "SEV4" and event.after["level"] == "SEV2"
    assert event.before["factors"] == {"impact": "moderate"}
    assert event.after["factors"] == {"impact": "moderate", "data_sensitivity": "special"}
    assert event.after["drivers"] == ["data_sensitivity"]
    assert "raised to SEV2" in event.after["explanation"]

    # Removing the factor brings it back down, and that too is on the timeline.
    back = client.post(
        f"/api/v1/incidents/{key}/severity",
        json={"factors": {"data_sensitivity": None}},
        headers=writer,
    ).json()
    assert back["severity"]["level"] == "SEV4"
    assert records.timeline(db, key)[-1].after["level"] == "SEV4"  # type: ignore[index]


def test_setting_the_same_factors_changes_nothing(
    client: TestClient, writer: dict[str, str], db: Session
) -> None:
    key = open_incident(client, writer, factors={"impact": "minor"})["key"]
    count = len(records.timeline(db, key))
    client.post(
        f"/api/v1/incidents/{key}/severity", json={"factors": {"impact": "minor"}}, headers=writer
    )
    assert len(records.timeline(db, key)) == count


@pytest.mark.parametrize("factors", [{"impact": "apocalyptic"}, {"vibes": "bad"}, {}])
def test_unknown_factors_are_refused(
    client: TestClient, writer: dict[str, str], factors: dict[str, str]
) -> None:
    key = open_incident(client, writer)["key"]
    response = client.post(
        f"/api/v1/incidents/{key}/severity", json={"factors": factors}, headers=writer
    )
    assert response.status_code == 422


@pytest.mark.parametrize("reason", [None, "", "   "])
def test_override_requires_a_written_reason(
    client: TestClient, writer: dict[str, str], reason: str | None
) -> None:
    key = open_incident(client, writer, factors={"impact": "minor"})["key"]
    body: dict[str, object] = {"level": "SEV1"}
    if reason is not None:
        body["reason"] = reason
    response = client.post(f"/api/v1/incidents/{key}/severity/override", json=body, headers=writer)
    assert response.status_code == 422
    detail = client.get(f"/api/v1/incidents/{key}", headers=writer).json()
    assert detail["severity"]["override"] is None


def test_override_and_clear(client: TestClient, writer: dict[str, str], db: Session) -> None:
    key = open_incident(client, writer, factors={"impact": "minor"})["key"]
    url = f"/api/v1/incidents/{key}/severity/override"
    set_ = client.post(url, json={"level": "SEV1", "reason": "CEO on the news"}, headers=writer)
    assert set_.status_code == 200
    severity = set_.json()["severity"]
    assert (severity["level"], severity["computed"], severity["override"]) == (
        "SEV1",
        "SEV4",
        "SEV1",
    )
    assert severity["override_reason"] == "CEO on the news"
    assert severity["override_by"] == "token:test-responder"
    assert severity["route"] == "incident_team"  # the route follows the effective level

    # Recomputing keeps the override in force.
    after = client.post(
        f"/api/v1/incidents/{key}/severity",
        json={"factors": {"impact": "moderate"}},
        headers=writer,
    ).json()
    assert after["severity"]["level"] == "SEV1"

    assert client.post(url, json={"level": None}, headers=writer).status_code == 422
    assert client.post(url, json={"level": None, "reason": " "}, headers=writer).status_code == 422
    cleared = client.post(url, json={"level": None, "reason": "story died down"}, headers=writer)
    assert cleared.status_code == 200
    assert cleared.json()["severity"]["level"] == "SEV4"
    assert cleared.json()["severity"]["override_reason"] is None
    again = client.post(url, json={"level": None, "reason": "twice"}, headers=writer)
    assert again.status_code == 409

    kinds = [(e.kind, e.note) for e in records.timeline(db, key) if e.kind.startswith("severity.o")]
    assert kinds == [
        ("severity.overridden", "CEO on the news"),
        ("severity.override_cleared", "story died down"),
    ]
    overridden = next(e for e in records.timeline(db, key) if e.kind == "severity.overridden")
    assert overridden.before == {"override": None, "reason": None, "effective": "SEV4"}
    assert overridden.after == {
        "override": "SEV1",
        "reason": "CEO on the news",
        "effective": "SEV1",
    }


def test_override_service_refuses_blank_reason(db: Session, app: FastAPI) -> None:
    policy: Policy = app.state.policy
    incident = service.create_incident(
        db, policy=policy, actor="t", title="x", categories=["integrity"]
    )
    with pytest.raises(FirestopError) as caught:
        override_severity(db, key=incident.key, actor="t", level=None, reason="\n")
    assert caught.value.status == 422


POLICY = load_policy(None)
FACTOR_UPDATES = st.lists(
    st.sampled_from(POLICY.severity.factors).flatmap(
        lambda f: st.tuples(st.just(f.id), st.sampled_from([None, *(lv.id for lv in f.levels)]))
    ),
    min_size=1,
    max_size=8,
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(updates=FACTOR_UPDATES)
def test_stored_severity_always_matches_the_rubric(
    db: Session, updates: list[tuple[str, str | None]]
) -> None:
    incident = service.create_incident(
        db, policy=POLICY, actor="t", title="prop", categories=["integrity"]
    )
    expected: dict[str, str] = {}
    for factor, level in updates:
        set_severity_factors(
            db, policy=POLICY, key=incident.key, actor="t", factors={factor: level}
        )
        if level is None:
            expected.pop(factor, None)
        else:
            expected[factor] = level
        assert incident.severity_factors == expected
        want = assess_severity(POLICY, expected).level.value if expected else None
        assert incident.computed_severity == want
    recomputed = [e for e in records.timeline(db, incident.key) if e.kind == "severity.recomputed"]
    for earlier, later in itertools.pairwise(recomputed):
        assert earlier.after == later.before  # each event starts where the last one ended
    db.rollback()
