"""Opening, reading and editing incidents (T1, T2, T4), people and external references."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from firestop.access import service as access
from firestop.access.models import Role
from firestop.incidents import records, service
from firestop.policy.schemas import Policy
from firestop.policy.service import suggested_actions
from tests.incidents.support import make_person, make_system, open_incident

Auth = Callable[[str], dict[str, str]]
KEY = re.compile(r"AI-(\d{4})-(\d{4,})")


@pytest.fixture
def writer(auth: Auth) -> dict[str, str]:
    return auth("responder")


def test_open_an_incident(client: TestClient, writer: dict[str, str], app: FastAPI) -> None:
    policy: Policy = app.state.policy
    body = open_incident(client, writer, categories=["insecure_behaviour", "confidentiality"])
    match = KEY.fullmatch(body["key"])
    assert match and int(match.group(1)) == datetime.now(UTC).year
    assert body["status"] == "triage"
    assert body["allowed_transitions"] == ["investigating", "closed"]
    assert body["created_by"] == "token:test-responder"
    assert body["detected_at"] is not None  # defaults to when it was opened
    # Tags default to the categories' default tags.
    assert body["tags"] == ["owasp-llm:LLM01", "owasp-agentic:ASI01", "owasp-llm:LLM02"]
    # Cause candidates start as hypotheses (T3).
    causes = [(c["cause_candidate"], c["kind"], c["status"]) for c in body["claims"]]
    assert causes == [(c.id, "cause", "hypothesis") for c in policy.taxonomy.cause_candidates]
    # Reversible protective actions are proposed at once (T4).
    expected = suggested_actions(policy, ["insecure_behaviour", "confidentiality"])
    assert [a["id"] for a in body["suggested_actions"]] == [a.id for a in expected]
    assert body["suggested_actions"][0]["id"] == "suspend_agent"
    # Every harm dimension is listed, unassessed.
    assert [h["dimension"] for h in body["harm"]] == [d.id for d in policy.taxonomy.harm_dimensions]
    assert all(h["level"] is None for h in body["harm"])
    assert body["severity"]["level"] is None and body["severity"]["route"] is None


def test_reading_and_writing_need_permissions(client: TestClient, auth: Auth) -> None:
    key = open_incident(client, auth("admin"))["key"]
    assert client.get("/api/v1/incidents").status_code == 401
    assert client.get(f"/api/v1/incidents/{key}").status_code == 401
    assert client.get(f"/api/v1/incidents/{key}", headers=auth("viewer")).status_code == 200
    body = {"title": "x", "categories": ["integrity"]}
    for role in ("viewer", "legal", "comms", "risk", "reporter"):
        assert client.post("/api/v1/incidents", json=body, headers=auth(role)).status_code == 403
        patch = client.patch(f"/api/v1/incidents/{key}", json={"title": "y"}, headers=auth(role))
        assert patch.status_code == 403
    assert client.post("/api/v1/incidents", json=body).status_code == 401


def test_unknown_incident_is_a_problem(client: TestClient, auth: Auth) -> None:
    response = client.get("/api/v1/incidents/AI-2000-0001", headers=auth("viewer"))
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"title": "x", "categories": ["weather"]}, "categories[0]"),
        ({"title": "x", "categories": ["near_miss"]}, "categories[0]"),
        ({"title": "x", "categories": []}, "categories"),
        ({"title": "   ", "categories": ["integrity"]}, "title"),
        ({"title": "x", "categories": ["integrity"], "tags": ["owasp-llm:LLM99"]}, "tags[0]"),
        ({"title": "x", "categories": ["integrity"], "tags": ["LLM01"]}, "tags[0]"),
        (
            {"title": "x", "categories": ["integrity"], "factors": {"impact": "huge"}},
            "factors.impact",
        ),
        (
            {"title": "x", "categories": ["integrity"], "systems": [{"system": "ghost"}]},
            "systems[0].system",
        ),
        (
            {"title": "x", "categories": ["integrity"], "began_at": "2026-01-01T00:00:00"},
            "began_at",
        ),
        (
            {"title": "x", "categories": ["integrity"], "began_at": "0001-01-01T00:00+05:00"},
            "began_at",
        ),
        (
            {"title": "x", "categories": ["integrity"], "detected_at": "9999-12-31T23:00-05:00"},
            "detected_at",
        ),
        ({"title": "x", "categories": ["integrity"], "colour": "red"}, "colour"),
        ({"title": "x" * 201, "categories": ["integrity"]}, "title"),
    ],
)
def test_invalid_incidents_name_the_field(
    client: TestClient, writer: dict[str, str], body: dict[str, object], loc: str
) -> None:
    response = client.post("/api/v1/incidents", json=body, headers=writer)
    assert response.status_code == 422, response.text
    assert loc in [e["loc"].removeprefix("body.") for e in response.json()["errors"]]


def test_tags_are_validated_and_kept(client: TestClient, writer: dict[str, str]) -> None:
    tags = ["owasp-llm:LLM01", "atlas:AML.T0051", "atlas:AML.T0051.001", "avid:E0101"]
    body = open_incident(client, writer, tags=tags)
    assert body["tags"] == tags


def test_keys_are_sequential_and_unique(db: Session, app: FastAPI) -> None:
    policy: Policy = app.state.policy
    keys = [
        service.create_incident(
            db, policy=policy, actor="t", title=f"n{i}", categories=["availability"]
        ).key
        for i in range(25)
    ]
    db.commit()
    numbers = [int(KEY.fullmatch(k).group(2)) for k in keys]  # type: ignore[union-attr]
    assert numbers == list(range(1, 26))
    assert keys[0] == f"AI-{datetime.now(UTC).year}-0001"


def test_keys_stay_unique_under_concurrent_creation(app: FastAPI) -> None:
    policy: Policy = app.state.policy
    keys: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def work(worker: int) -> None:
        try:
            for i in range(5):
                with app.state.sessionmaker() as session:
                    incident = service.create_incident(
                        session,
                        policy=policy,
                        actor=f"w{worker}",
                        title=f"{worker}-{i}",
                        categories=["availability"],
                    )
                    session.commit()
                    with lock:
                        keys.append(incident.key)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(keys) == len(set(keys)) == 30
    assert sorted(int(k.rsplit("-", 1)[1]) for k in keys) == list(range(1, 31))


def test_patch_changes_only_what_is_sent(
    client: TestClient, writer: dict[str, str], db: Session
) -> None:
    make_system(db, "support-bot")
    make_system(db, "pricing", "Pricing model")
    key = open_incident(client, writer, summary="first")["key"]
    response = client.patch(
        f"/api/v1/incidents/{key}",
        json={
            "what_happened": "The assistant quoted another customer's order.",
            "began_at": "2026-01-02T08:00:00+01:00",
            "detected_at": "2026-01-02T09:30:00Z",
            "affected_people": 12,
            "affected_decisions": 3,
            "affected_decisions_basis": "counted",
            "continuing": "no",
            "systems": [
                {
                    "system": "support-bot",
                    "model_version": "gpt-x-2026-01",
                    "application_version": "4.2",
                }
            ],
        },
        headers=writer,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["summary"] == "first"
    assert body["began_at"].startswith("2026-01-02T07:00:00")
    assert body["affected_people"] == 12 and body["affected_people_basis"] == "estimate"
    assert body["affected_decisions_basis"] == "counted"
    assert body["continuing"] == "no"
    assert body["systems"] == [
        {
            "system": "support-bot",
            "name": "Support assistant",
            "criticality": "high",
            "model_version": "gpt-x-2026-01",
            "application_version": "4.2",
        }
    ]
    # Keep one system with a new version, add another, in one change.
    again = client.patch(
        f"/api/v1/incidents/{key}",
        json={
            "systems": [
                {"system": "pricing"},
                {"system": "support-bot", "model_version": "gpt-x-2026-02"},
            ],
            "affected_people": None,
        },
        headers=writer,
    ).json()
    assert [(s["system"], s["model_version"]) for s in again["systems"]] == [
        ("pricing", ""),
        ("support-bot", "gpt-x-2026-02"),
    ]
    assert again["affected_people"] is None and again["affected_people_basis"] is None


@pytest.mark.parametrize(
    "patch",
    [
        {"title": None},
        {"categories": None},
        {"continuing": None},
        {"affected_people_basis": "counted"},
        {"began_at": "2026-02-01T00:00:00Z", "detected_at": "2026-01-01T00:00:00Z"},
        {"affected_people": -1},
        {"continuing": "maybe"},
        {"key": "AI-1-1"},
        {"status": "closed"},
    ],
)
def test_invalid_patches_are_refused(
    client: TestClient, writer: dict[str, str], patch: dict[str, object]
) -> None:
    key = open_incident(client, writer)["key"]
    response = client.patch(f"/api/v1/incidents/{key}", json=patch, headers=writer)
    assert response.status_code == 422, response.text
    assert client.get(f"/api/v1/incidents/{key}", headers=writer).json()["status"] == "triage"


def test_list_filters(client: TestClient, writer: dict[str, str]) -> None:
    a = open_incident(client, writer, title="a", factors={"impact": "severe"})["key"]
    b = open_incident(client, writer, title="b", factors={"impact": "minor"})["key"]
    c = open_incident(client, writer, title="c")["key"]
    client.post(
        f"/api/v1/incidents/{c}/status",
        json={"status": "closed", "outcome": "near_miss", "reason": "caught in review"},
        headers=writer,
    )
    client.post(
        f"/api/v1/incidents/{b}/severity/override",
        json={"level": "SEV2", "reason": "regulator already asking"},
        headers=writer,
    )

    def keys(query: str = "") -> list[str]:
        response = client.get(f"/api/v1/incidents?{query}", headers=writer)
        assert response.status_code == 200, response.text
        return [i["key"] for i in response.json()]

    assert keys() == [c, b, a]
    assert keys("open=true") == [b, a]
    assert keys("status=closed") == [c]
    assert keys("severity=SEV1") == [a]
    assert keys("severity=SEV2") == [b]  # the override counts
    assert keys("severity=SEV4") == []
    listed = client.get("/api/v1/incidents", headers=writer).json()
    assert listed[1]["severity_overridden"] is True
    assert listed[0]["outcome"] == "near_miss"


def test_harm_assessment(client: TestClient, writer: dict[str, str], db: Session) -> None:
    key = open_incident(client, writer)["key"]
    harm = {
        "confidentiality": {"level": "high", "note": "addresses"},
        "reputation": {"level": "low"},
    }
    body = client.put(
        f"/api/v1/incidents/{key}/harm", json={"dimensions": harm}, headers=writer
    ).json()
    levels = {h["dimension"]: (h["level"], h["note"]) for h in body["harm"]}
    assert levels["confidentiality"] == ("high", "addresses")
    assert levels["reputation"] == ("low", "")
    assert levels["safety"] == (None, "")
    # The whole assessment is replaced; the timeline holds what changed.
    client.put(
        f"/api/v1/incidents/{key}/harm",
        json={"dimensions": {"confidentiality": {"level": "medium", "note": "addresses"}}},
        headers=writer,
    )
    last = records.timeline(db, key)[-1]
    assert last.kind == "harm.assessed"
    assert last.before == {
        "confidentiality": {"level": "high", "note": "addresses"},
        "reputation": {"level": "low", "note": ""},
    }
    assert last.after == {
        "confidentiality": {"level": "medium", "note": "addresses"},
        "reputation": None,
    }
    for bad in ({"weather": {"level": "low"}}, {"safety": {"level": "catastrophic"}}):
        response = client.put(
            f"/api/v1/incidents/{key}/harm", json={"dimensions": bad}, headers=writer
        )
        assert response.status_code == 422


def test_participants_and_one_commander(
    client: TestClient, writer: dict[str, str], app: FastAPI, db: Session
) -> None:
    with app.state.sessionmaker() as session:
        access.create_user(
            session,
            username="maria",
            password="long-enough-pw",
            role=Role.responder,
            display_name="Maria Lopez",
        )
        access.create_user(session, username="tom", password="long-enough-pw", role=Role.responder)
        session.commit()
    make_person(db, "ana", "Ana Ruiz")
    key = open_incident(client, writer)["key"]
    url = f"/api/v1/incidents/{key}/participants"

    first = client.post(url, json={"role": "commander", "username": "maria"}, headers=writer)
    assert first.status_code == 201, first.text
    assert first.json()["commander"]["display_name"] == "Maria Lopez"
    second = client.post(url, json={"role": "commander", "username": "tom"}, headers=writer)
    assert second.status_code == 409
    assert "Maria Lopez" in second.json()["detail"]

    legal = client.post(url, json={"role": "legal", "person": "ana"}, headers=writer).json()
    ana = next(p for p in legal["participants"] if p["person"] == "ana")
    assert ana["display_name"] == "Ana Ruiz" and ana["role"] == "legal"
    assert (
        client.post(url, json={"role": "legal", "person": "ana"}, headers=writer).status_code == 409
    )

    commander_id = first.json()["commander"]["id"]
    removed = client.post(
        f"{url}/{commander_id}/remove", json={"reason": "handover at shift end"}, headers=writer
    ).json()
    assert removed["commander"] is None
    gone = next(p for p in removed["participants"] if p["id"] == commander_id)
    assert gone["active"] is False and gone["removal_reason"] == "handover at shift end"
    assert gone["removed_by"] == "token:test-responder"
    again = client.post(f"{url}/{commander_id}/remove", json={}, headers=writer)
    assert again.status_code == 409

    handover = client.post(url, json={"role": "commander", "username": "tom"}, headers=writer)
    assert handover.status_code == 201
    assert handover.json()["commander"]["username"] == "tom"
    assert len(handover.json()["participants"]) == 3  # history is kept

    for bad in (
        {"role": "scribe"},
        {"role": "scribe", "username": "nobody"},
        {"role": "scribe", "person": "nobody"},
        {"role": "mascot", "username": "tom"},
    ):
        assert client.post(url, json=bad, headers=writer).status_code == 422, bad
    summary = client.get("/api/v1/incidents", headers=writer).json()[0]
    assert summary["commander"] == "tom"


def test_external_references(client: TestClient, writer: dict[str, str]) -> None:
    key = open_incident(client, writer)["key"]
    url = f"/api/v1/incidents/{key}/external-refs"
    ok = client.post(
        url,
        json={
            "system": "ServiceNow",
            "ticket": "INC0012345",
            "url": "https://sn.example.com/INC0012345",
        },
        headers=writer,
    )
    assert ok.status_code == 201
    [ref] = ok.json()["external_refs"]
    assert (ref["system"], ref["ticket"]) == ("ServiceNow", "INC0012345")
    dup = client.post(url, json={"system": "ServiceNow", "ticket": "INC0012345"}, headers=writer)
    assert dup.status_code == 409
    for bad_url in ("javascript:alert(1)", "ftp://x.example/a", "not a url"):
        response = client.post(
            url, json={"system": "Jira", "ticket": "SEC-1", "url": bad_url}, headers=writer
        )
        assert response.status_code == 422, bad_url
    removed = client.post(f"{url}/{ref['id']}/remove", headers=writer).json()
    assert removed["external_refs"][0]["removed_at"] is not None
    readd = client.post(url, json={"system": "ServiceNow", "ticket": "INC0012345"}, headers=writer)
    assert readd.status_code == 201


@pytest.mark.parametrize(
    ("patch", "loc"),
    [
        ({"affected_people": 2**40}, "affected_people"),
        ({"affected_decisions": -1}, "affected_decisions"),
        ({"began_at": "0001-01-01T00:00+05:00"}, "began_at"),
    ],
)
def test_patch_refuses_values_the_database_cannot_hold(
    client: TestClient, writer: dict[str, str], patch: dict[str, object], loc: str
) -> None:
    created = client.post(
        "/api/v1/incidents", json={"title": "x", "categories": ["integrity"]}, headers=writer
    )
    key = created.json()["key"]
    response = client.patch(f"/api/v1/incidents/{key}", json=patch, headers=writer)
    assert response.status_code == 422, response.text
    assert loc in {e["loc"].removeprefix("body.") for e in response.json()["errors"]}
