"""CRUD over HTTP, permissions, validation places and references that block deletion."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.inventory.samples import SMALL, SYSTEM

API = "/api/v1/inventory"
Auth = Callable[[str], dict[str, str]]


@pytest.fixture
def writer(auth: Auth) -> dict[str, str]:
    return auth("admin")


@pytest.fixture
def loaded(client: TestClient, writer: dict[str, str]) -> None:
    response = client.post(
        f"{API}/import", content=SMALL, headers={**writer, "Content-Type": "application/yaml"}
    )
    assert response.status_code == 200, response.text


def _problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    return body


def test_system_crud_round_trip(client: TestClient, writer: dict[str, str]) -> None:
    created = client.post(f"{API}/systems", json=SYSTEM, headers=writer)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["slug"] == "claims-triage"
    assert body["models"] == [
        {
            "name": "triage-gbm",
            "provider": "",
            "version": "4.2.1",
            "approved": True,
            "bom_ref": None,
            "purl": None,
        }
    ]
    assert body["tools"][0]["kind"] == "connector"
    assert body["fallback"]["capacity"] == "40 % of normal volume"
    assert body["lifecycle"] == "production"

    got = client.get(f"{API}/systems/claims-triage", headers=writer).json()
    assert got == body

    changed = {**SYSTEM, "criticality": "high", "models": [], "approved_uses": ["Route claims"]}
    updated = client.put(f"{API}/systems/claims-triage", json=changed, headers=writer)
    assert updated.status_code == 200, updated.text
    assert updated.json()["models"] == []
    assert updated.json()["criticality"] == "high"
    assert updated.json()["created_at"] == body["created_at"]

    listed = client.get(f"{API}/systems", headers=writer).json()
    assert [s["slug"] for s in listed] == ["claims-triage"]

    assert client.delete(f"{API}/systems/claims-triage", headers=writer).status_code == 204
    _problem(client.get(f"{API}/systems/claims-triage", headers=writer), 404)


def test_system_can_be_renamed_but_not_onto_another(
    client: TestClient, writer: dict[str, str], loaded: None
) -> None:
    renamed = client.put(
        f"{API}/systems/coder",
        json={"slug": "code-assistant", "name": "Coding assistant", "criticality": "low"},
        headers=writer,
    )
    assert renamed.status_code == 200, renamed.text
    _problem(client.get(f"{API}/systems/coder", headers=writer), 404)
    clash = client.put(
        f"{API}/systems/code-assistant",
        json={"slug": "support-bot", "name": "x", "criticality": "low"},
        headers=writer,
    )
    assert "already exists" in _problem(clash, 409)["detail"]


def test_creating_a_duplicate_slug_is_a_conflict(
    client: TestClient, writer: dict[str, str]
) -> None:
    assert client.post(f"{API}/systems", json=SYSTEM, headers=writer).status_code == 201
    body = _problem(client.post(f"{API}/systems", json=SYSTEM, headers=writer), 409)
    assert "claims-triage" in body["detail"]


def test_people_teams_vendors_crud(client: TestClient, writer: dict[str, str]) -> None:
    team = {"slug": "secops", "name": "Security Operations", "contact": "#secops"}
    assert client.post(f"{API}/teams", json=team, headers=writer).status_code == 201
    person = {"slug": "amara", "name": "Amara Okafor", "team": "secops", "phone": "+44 1"}
    created = client.post(f"{API}/people", json=person, headers=writer)
    assert created.status_code == 201, created.text
    assert created.json()["team"] == "secops"
    vendor = {
        "slug": "nimbus",
        "name": "Nimbus AI",
        "contacts": [{"name": "Desk", "email": "desk@nimbus.example", "role": "support"}],
        "escalation_route": ["ticket", "phone"],
        "notify_within_hours": 24,
        "notification_terms": "24 hours",
        "status_url": "https://status.nimbus.example",
    }
    made = client.post(f"{API}/vendors", json=vendor, headers=writer)
    assert made.status_code == 201, made.text
    assert made.json()["escalation_route"] == ["ticket", "phone"]
    assert made.json()["contacts"][0]["phone"] == ""

    moved = client.put(f"{API}/people/amara", json={**person, "team": None}, headers=writer)
    assert moved.json()["team"] is None
    assert [t["slug"] for t in client.get(f"{API}/teams", headers=writer).json()] == ["secops"]
    assert client.get(f"{API}/vendors/nimbus", headers=writer).json()["notify_within_hours"] == 24
    assert client.get(f"{API}/people", headers=writer).json()[0]["name"] == "Amara Okafor"
    for path in ("people/amara", "teams/secops", "vendors/nimbus"):
        assert client.delete(f"{API}/{path}", headers=writer).status_code == 204
        _problem(client.get(f"{API}/{path}", headers=writer), 404)


def test_viewer_reads_but_cannot_write(client: TestClient, auth: Auth, loaded: None) -> None:
    viewer = auth("viewer")
    assert client.get(f"{API}/systems", headers=viewer).status_code == 200
    assert client.get(f"{API}/export", headers=viewer).status_code == 200
    body = _problem(client.post(f"{API}/systems", json=SYSTEM, headers=viewer), 403)
    assert "inventory:write" in body["detail"]
    _problem(client.delete(f"{API}/systems/coder", headers=viewer), 403)
    _problem(
        client.post(
            f"{API}/import", content=SMALL, headers={**viewer, "Content-Type": "text/yaml"}
        ),
        403,
    )
    _problem(client.post(f"{API}/systems", json=SYSTEM, headers=auth("responder")), 403)
    # The risk role keeps the inventory.
    assert client.post(f"{API}/systems", json=SYSTEM, headers=auth("risk")).status_code == 201


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/systems"),
        ("GET", "/people/amara"),
        ("GET", "/export"),
        ("POST", "/systems"),
        ("POST", "/import"),
        ("DELETE", "/teams/secops"),
        ("GET", "/authority"),
    ],
)
def test_no_credential_is_401(client: TestClient, method: str, path: str) -> None:
    body = _problem(client.request(method, f"{API}{path}", json=SYSTEM), 401)
    assert body["title"] == "Unauthorized"


def test_validation_errors_name_the_place(client: TestClient, writer: dict[str, str]) -> None:
    bad = {
        **SYSTEM,
        "slug": "Claims Triage",
        "criticality": "extreme",
        "models": [{"name": "m", "version": 3}],
        "risk_assessment": {"url": "javascript:alert(1)"},
        "tools": [{"name": "t", "kind": "robot"}],
    }
    body = _problem(client.post(f"{API}/systems", json=bad, headers=writer), 422)
    places = {e["loc"]: e["msg"] for e in body["errors"]}
    assert "slug" in places["body.slug"]
    assert "critical" in places["body.criticality"]
    assert "body.models[0].version" in places
    assert "http" in places["body.risk_assessment.url"]
    assert "body.tools[0].kind" in places


def test_unknown_references_are_invalid(client: TestClient, writer: dict[str, str]) -> None:
    system = {**SYSTEM, "owner": "nobody", "vendors": ["ghost-vendor"]}
    body = _problem(client.post(f"{API}/systems", json=system, headers=writer), 422)
    assert {e["loc"] for e in body["errors"]} == {"owner", "vendors"}
    assert "nobody" in body["errors"][0]["msg"]
    person = {"slug": "x", "name": "X", "team": "no-team"}
    body = _problem(client.post(f"{API}/people", json=person, headers=writer), 422)
    assert body["errors"] == [{"loc": "team", "msg": "no team 'no-team' in the inventory"}]


def test_deleting_what_is_referenced_names_the_referrers(
    client: TestClient, writer: dict[str, str], loaded: None
) -> None:
    team = _problem(client.delete(f"{API}/teams/secops", headers=writer), 409)
    assert "person 'amara'" in team["detail"]
    person = _problem(client.delete(f"{API}/people/lena", headers=writer), 409)
    assert "system 'support-bot' (owner)" in person["detail"]
    assert "product_owner for support-bot" in person["detail"]
    vendor = _problem(client.delete(f"{API}/vendors/nimbus", headers=writer), 409)
    assert "system 'support-bot'" in vendor["detail"]
    system = _problem(client.delete(f"{API}/systems/support-bot", headers=writer), 409)
    assert "role assignment product_owner (lena)" in system["detail"]
    assert "authority rule for suspend_agent" in system["detail"]
    # Nothing was deleted along the way.
    assert client.get(f"{API}/teams/secops", headers=writer).status_code == 200
    assert client.get(f"{API}/systems/support-bot", headers=writer).status_code == 200


def test_assignments_crud(client: TestClient, writer: dict[str, str], loaded: None) -> None:
    listed = client.get(f"{API}/assignments", headers=writer).json()
    assert [(a["system"], a["role"], a["person"]) for a in listed] == [
        (None, "incident_commander", "amara"),
        ("support-bot", "product_owner", "lena"),
    ]
    new = {"system": "support-bot", "role": "security", "person": "amara"}
    created = client.post(f"{API}/assignments", json=new, headers=writer)
    assert created.status_code == 201, created.text
    assignment_id = created.json()["id"]
    body = _problem(client.post(f"{API}/assignments", json=new, headers=writer), 409)
    assert "already security" in body["detail"]
    org_wide = {"role": "incident_commander", "person": "amara"}
    _problem(client.post(f"{API}/assignments", json=org_wide, headers=writer), 409)

    only = client.get(f"{API}/assignments", params={"role": "security"}, headers=writer).json()
    assert [a["id"] for a in only] == [assignment_id]
    changed = client.put(
        f"{API}/assignments/{assignment_id}", json={**new, "person": "lena"}, headers=writer
    )
    assert changed.json()["person"] == "lena"
    bad = _problem(
        client.post(f"{API}/assignments", json={**new, "role": "wizard"}, headers=writer), 422
    )
    assert bad["errors"][0]["loc"] == "body.role"
    _problem(
        client.post(f"{API}/assignments", json={**new, "person": "ghost"}, headers=writer), 422
    )
    assert client.delete(f"{API}/assignments/{assignment_id}", headers=writer).status_code == 204
    _problem(client.get(f"{API}/assignments/{assignment_id}", headers=writer), 404)


def test_authority_rules_crud_and_checks(
    client: TestClient, writer: dict[str, str], loaded: None
) -> None:
    rule = {
        "action": "remove_connector",
        "criticality": "high",
        "decision": "needs_approval",
        "invokers": ["incident_commander", "security"],
        "approvers": ["product_owner"],
    }
    created = client.post(f"{API}/authority", json=rule, headers=writer)
    assert created.status_code == 201, created.text
    rule_id = created.json()["id"]
    _problem(client.post(f"{API}/authority", json=rule, headers=writer), 409)

    unknown = _problem(
        client.post(f"{API}/authority", json={**rule, "action": "nuke_it"}, headers=writer), 422
    )
    assert unknown["errors"][0]["loc"] == "action"
    assert "suspend_agent" in unknown["errors"][0]["msg"]
    no_approvers = _problem(
        client.post(f"{API}/authority", json={**rule, "approvers": []}, headers=writer), 422
    )
    assert "approver" in no_approvers["detail"]
    two_scopes = _problem(
        client.post(f"{API}/authority", json={**rule, "system": "coder"}, headers=writer), 422
    )
    assert "exactly one scope" in two_scopes["detail"]
    bad_role = _problem(
        client.post(f"{API}/authority", json={**rule, "invokers": ["janitor"]}, headers=writer),
        422,
    )
    assert bad_role["errors"][0]["loc"] == "body.invokers"

    forbidden = {**rule, "decision": "forbidden", "invokers": [], "approvers": []}
    updated = client.put(f"{API}/authority/{rule_id}", json=forbidden, headers=writer)
    assert updated.status_code == 200, updated.text
    assert updated.json()["decision"] == "forbidden"
    listed = client.get(f"{API}/authority", params={"action": "remove_connector"}, headers=writer)
    assert [r["id"] for r in listed.json()] == [rule_id]
    assert client.delete(f"{API}/authority/{rule_id}", headers=writer).status_code == 204


def test_authority_resolution_route(client: TestClient, auth: Auth, loaded: None) -> None:
    viewer = auth("viewer")
    own = client.get(f"{API}/systems/support-bot/authority/suspend_agent", headers=viewer).json()
    assert (own["decision"], own["source"]) == ("pre_authorized", "system")
    coder = client.get(f"{API}/systems/coder/authority/switch_to_manual", headers=viewer).json()
    assert (coder["decision"], coder["source"]) == ("forbidden", "criticality")
    default = client.get(f"{API}/systems/coder/authority/rollback_version", headers=viewer).json()
    assert default["source"] == "default"
    assert default["decision"] == "needs_approval"
    assert default["approvers"] == ["incident_commander"]
    _problem(client.get(f"{API}/systems/coder/authority/teleport", headers=viewer), 404)
    _problem(client.get(f"{API}/systems/ghost/authority/suspend_agent", headers=viewer), 404)
