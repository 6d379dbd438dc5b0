"""Claims (T3): hypotheses until evidence and a named person confirm them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from firestop.errors import FirestopError
from firestop.incidents import claims, records, service
from firestop.incidents.models import ClaimKind, ClaimStatus
from firestop.incidents.rules import CLAIM_NEXT
from firestop.incidents.views import incident_view
from tests.incidents.support import open_incident

Auth = Callable[[str], dict[str, str]]


@pytest.fixture
def key(client: TestClient, auth: Auth) -> str:
    found: str = open_incident(client, auth("responder"))["key"]
    return found


@pytest.fixture
def legal(auth: Auth) -> dict[str, str]:
    return auth("legal")  # may write claims, not incidents


def _claim(client: TestClient, headers: dict[str, str], key: str, **body: Any) -> Any:
    return client.post(
        f"/api/v1/incidents/{key}/claims",
        json={"statement": "The retrieval index held other customers' orders", **body},
        headers=headers,
    )


def _move(client: TestClient, headers: dict[str, str], key: str, claim: int, **body: Any) -> Any:
    return client.post(f"/api/v1/incidents/{key}/claims/{claim}/status", json=body, headers=headers)


def test_claims_start_as_hypotheses(
    client: TestClient, key: str, legal: dict[str, str], auth: Auth
) -> None:
    response = _claim(client, legal, key, kind="finding")
    assert response.status_code == 201, response.text
    claim = response.json()
    assert claim["status"] == "hypothesis"
    assert claim["created_by"] == "token:test-legal"
    assert claim["allowed_transitions"] == ["supported", "refuted"]
    assert _claim(client, auth("viewer"), key).status_code == 403
    assert _claim(client, auth("comms"), key).status_code == 403
    assert _claim(client, {}, key).status_code == 401


@pytest.mark.parametrize(
    "body",
    [
        {"statement": "  "},
        {"kind": "rumour"},
        {"kind": "finding", "cause_candidate": "malicious_actor"},
        {"kind": "cause", "cause_candidate": "gremlins"},
        {"status": "confirmed"},
    ],
)
def test_invalid_claims(
    client: TestClient, key: str, legal: dict[str, str], body: dict[str, str]
) -> None:
    assert _claim(client, legal, key, **body).status_code == 422


def test_a_cause_may_name_a_candidate(client: TestClient, key: str, legal: dict[str, str]) -> None:
    claim = _claim(client, legal, key, kind="cause", cause_candidate="poor_data").json()
    assert (claim["kind"], claim["cause_candidate"]) == ("cause", "poor_data")


def test_confirming_needs_evidence_and_records_the_confirmer(
    client: TestClient, key: str, legal: dict[str, str], db: Session
) -> None:
    claim = _claim(client, legal, key).json()["id"]
    # No jumping from hypothesis straight to confirmed.
    direct = _move(client, legal, key, claim, status="confirmed", confirmed_by="Ana Ruiz")
    assert direct.status_code == 409
    assert "allowed next: supported, refuted" in direct.json()["detail"]
    assert _move(client, legal, key, claim, status="supported").status_code == 200

    no_evidence = _move(client, legal, key, claim, status="confirmed", confirmed_by="Ana Ruiz")
    assert no_evidence.status_code == 422
    assert "evidence" in no_evidence.json()["detail"]

    evidence = client.post(
        f"/api/v1/incidents/{key}/claims/{claim}/evidence",
        json={"ref": "https://logs.example.com/q?id=42", "note": "index dump, 09:30"},
        headers=legal,
    )
    assert evidence.status_code == 201
    assert evidence.json()["added_by"] == "token:test-legal"

    # A token is not a person: the confirmer must be named.
    unnamed = _move(client, legal, key, claim, status="confirmed")
    assert unnamed.status_code == 422
    assert unnamed.json()["errors"][0]["loc"] == "confirmed_by"

    confirmed = _move(client, legal, key, claim, status="confirmed", confirmed_by="Ana Ruiz")
    assert confirmed.status_code == 200, confirmed.text
    body = confirmed.json()
    assert body["status"] == "confirmed"
    assert body["confirmed_by"] == "Ana Ruiz"
    assert body["confirmed_by_actor"] == "token:test-legal"
    assert body["confirmed_at"] is not None
    assert [e["ref"] for e in body["evidence"]] == ["https://logs.example.com/q?id=42"]
    event = records.timeline(db, key)[-1]
    assert (event.kind, event.entity_type, event.entity_id) == (
        "claim.status_changed",
        "claim",
        claim,
    )
    assert event.before == {"status": "supported"}
    assert event.after == {"status": "confirmed", "confirmed_by": "Ana Ruiz"}


def test_the_signed_in_user_is_the_default_confirmer(db: Session, app: FastAPI) -> None:
    incident = service.create_incident(
        db, policy=app.state.policy, actor="maria", title="x", categories=["integrity"]
    )
    claim = claims.add_claim(
        db, policy=app.state.policy, key=incident.key, actor="maria", statement="s"
    )
    claims.change_claim_status(
        db, key=incident.key, claim_id=claim.id, actor="maria", status=ClaimStatus.supported
    )
    claims.add_evidence(db, key=incident.key, claim_id=claim.id, actor="maria", ref="ticket 7")
    with pytest.raises(FirestopError):
        claims.change_claim_status(
            db, key=incident.key, claim_id=claim.id, actor="maria", status=ClaimStatus.confirmed
        )
    claims.change_claim_status(
        db,
        key=incident.key,
        claim_id=claim.id,
        actor="maria",
        status=ClaimStatus.confirmed,
        confirmed_by="maria",
    )
    assert (claim.confirmed_by, claim.confirmed_by_actor) == ("maria", "maria")


def test_refuting_and_reopening_need_reasons(
    client: TestClient, key: str, legal: dict[str, str]
) -> None:
    claim = _claim(client, legal, key).json()["id"]
    assert _move(client, legal, key, claim, status="refuted").status_code == 422
    refuted = _move(client, legal, key, claim, status="refuted", reason="logs show no access")
    assert refuted.status_code == 200
    assert refuted.json()["allowed_transitions"] == ["hypothesis"]
    assert _move(client, legal, key, claim, status="supported").status_code == 409
    assert _move(client, legal, key, claim, status="hypothesis").status_code == 422
    reopened = _move(client, legal, key, claim, status="hypothesis", reason="second log source")
    assert reopened.status_code == 200
    assert reopened.json()["status"] == "hypothesis"


def test_reopening_a_confirmed_claim_clears_the_confirmation(db: Session, app: FastAPI) -> None:
    policy = app.state.policy
    incident = service.create_incident(
        db, policy=policy, actor="a", title="x", categories=["integrity"]
    )
    claim = claims.add_claim(db, policy=policy, key=incident.key, actor="a", statement="s")
    claims.change_claim_status(
        db, key=incident.key, claim_id=claim.id, actor="a", status=ClaimStatus.supported
    )
    claims.add_evidence(db, key=incident.key, claim_id=claim.id, actor="a", ref="r")
    claims.change_claim_status(
        db,
        key=incident.key,
        claim_id=claim.id,
        actor="a",
        status=ClaimStatus.confirmed,
        confirmed_by="A",
    )
    with pytest.raises(FirestopError):
        claims.change_claim_status(
            db, key=incident.key, claim_id=claim.id, actor="a", status=ClaimStatus.hypothesis
        )
    claims.change_claim_status(
        db,
        key=incident.key,
        claim_id=claim.id,
        actor="b",
        status=ClaimStatus.hypothesis,
        reason="the evidence was from the wrong tenant",
    )
    assert claim.status == "hypothesis"
    assert claim.confirmed_by is claim.confirmed_by_actor is claim.confirmed_at is None
    view = incident_view(db, policy=policy, key=incident.key)
    assert all(c.status != ClaimStatus.confirmed for c in view.claims)


ALL_MOVES = [(a, b) for a in ClaimStatus for b in ClaimStatus if a != b]


@pytest.mark.parametrize(("start", "target"), ALL_MOVES)
def test_claim_transition_table(
    db: Session, app: FastAPI, start: ClaimStatus, target: ClaimStatus
) -> None:
    policy = app.state.policy
    incident = service.create_incident(
        db, policy=policy, actor="a", title="x", categories=["integrity"]
    )
    claim = claims.add_claim(
        db, policy=policy, key=incident.key, actor="a", statement="s", kind=ClaimKind.impact
    )
    claims.add_evidence(db, key=incident.key, claim_id=claim.id, actor="a", ref="r")
    route = {
        ClaimStatus.hypothesis: [],
        ClaimStatus.supported: [ClaimStatus.supported],
        ClaimStatus.confirmed: [ClaimStatus.supported, ClaimStatus.confirmed],
        ClaimStatus.refuted: [ClaimStatus.refuted],
    }[start]
    for step in route:
        claims.change_claim_status(
            db,
            key=incident.key,
            claim_id=claim.id,
            actor="a",
            status=step,
            reason="r",
            confirmed_by="A",
        )
    assert claim.status == start
    move = lambda: claims.change_claim_status(  # noqa: E731
        db,
        key=incident.key,
        claim_id=claim.id,
        actor="a",
        status=target,
        reason="r",
        confirmed_by="A",
    )
    if target in CLAIM_NEXT[start]:
        move()
        assert claim.status == target
    else:
        with pytest.raises(FirestopError) as caught:
            move()
        assert caught.value.status == 409
        assert claim.status == start


def test_claims_of_another_incident_are_not_found(
    client: TestClient, key: str, legal: dict[str, str], auth: Auth
) -> None:
    other = open_incident(client, auth("responder"))["key"]
    claim = _claim(client, legal, other).json()["id"]
    assert _move(client, legal, key, claim, status="supported").status_code == 404
    response = client.post(
        f"/api/v1/incidents/{key}/claims/{claim}/evidence", json={"ref": "x"}, headers=legal
    )
    assert response.status_code == 404
