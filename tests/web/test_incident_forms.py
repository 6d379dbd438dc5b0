"""The incident forms not driven in the browser tests, posted as a browser would."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI
from fastapi.testclient import TestClient

from firestop.access.models import Role
from firestop.incidents import service as incidents
from firestop.incidents.schemas import IncidentDetail
from firestop.incidents.views import incident_view
from tests.web.support import Login, client_log_in


def _incident(app: FastAPI) -> str:
    with app.state.sessionmaker() as db:
        key = incidents.create_incident(
            db,
            policy=app.state.policy,
            actor="tests",
            title="Knowledge search cites a withdrawn product",
            categories=["harmful_output"],
            factors={"impact": "minor"},
        ).key
        db.commit()
    return key


def _view(app: FastAPI, key: str) -> IncidentDetail:
    with app.state.sessionmaker() as db:
        return incident_view(db, policy=app.state.policy, key=key)


def test_harm_assessment_form(
    app: FastAPI, client: TestClient, make_user: Callable[[Role], Login]
) -> None:
    key = _incident(app)
    csrf = client_log_in(client, make_user(Role.responder))
    response = client.post(
        f"/incidents/{key}/harm",
        data={
            "csrf_token": csrf,
            "harm.reputation": "low",
            "note.reputation": "one complaint",
            "harm.finances": "",
            "note.finances": "ignored without a level",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/incidents/{key}?done=harm#harm"
    harm = {h.dimension: (h.level, h.note) for h in _view(app, key).harm}
    assert harm["reputation"] == ("low", "one complaint")
    assert harm["finances"] == (None, "")
    page = client.get(response.headers["location"]).text
    assert "The harm assessment was recorded." in page
    assert "one complaint" in page


def test_clearing_a_factor_and_the_override(
    app: FastAPI, client: TestClient, make_user: Callable[[Role], Login]
) -> None:
    key = _incident(app)
    csrf = client_log_in(client, make_user(Role.responder))
    client.post(
        f"/incidents/{key}/severity/override",
        data={"csrf_token": csrf, "level": "SEV2", "reason": "press interest"},
    )
    assert _view(app, key).severity.override == "SEV2"
    client.post(
        f"/incidents/{key}/severity/override",
        data={"csrf_token": csrf, "level": "", "reason": "press moved on"},
    )
    severity = _view(app, key).severity
    assert severity.override is None
    assert severity.level == "SEV4"

    client.post(f"/incidents/{key}/severity", data={"csrf_token": csrf, "factor.impact": ""})
    assert _view(app, key).severity.factors == {}


def test_closing_from_triage_as_a_near_miss(
    app: FastAPI, client: TestClient, make_user: Callable[[Role], Login]
) -> None:
    key = _incident(app)
    csrf = client_log_in(client, make_user(Role.responder))
    response = client.post(
        f"/incidents/{key}/status",
        data={
            "csrf_token": csrf,
            "status": "closed",
            "outcome": "near_miss",
            "reason": "the citation check caught it before anyone saw it",
        },
    )
    assert response.status_code == 200
    detail = _view(app, key)
    assert (detail.status, detail.outcome) == ("closed", "near_miss")
    assert "Near miss" in response.text
    assert "Change status" not in response.text  # closed is final: no form
