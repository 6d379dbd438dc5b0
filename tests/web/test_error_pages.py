"""Errors on page paths are readable pages naming the problem; the API keeps JSON."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI
from fastapi.testclient import TestClient

from firestop.access.models import Role
from firestop.incidents import service as incidents
from firestop.signals import service as signals
from tests.web.support import Login, client_log_in


def _incident(app: FastAPI) -> str:
    with app.state.sessionmaker() as db:
        key = incidents.create_incident(
            db, policy=app.state.policy, actor="tests", title="T", categories=["integrity"]
        ).key
        db.commit()
    return key


def _is_page(response: object, status: int, *phrases: str) -> None:
    assert getattr(response, "status_code", None) == status
    text: str = getattr(response, "text", "")
    assert getattr(response, "headers", {})["content-type"].startswith("text/html")
    for phrase in phrases:
        assert phrase in text, f"{phrase!r} not on the {status} page"


def test_not_found(client: TestClient, make_user: Callable[[Role], Login]) -> None:
    client_log_in(client, make_user(Role.viewer))
    _is_page(client.get("/incidents/AI-2026-9999"), 404, "no incident &#39;AI-2026-9999&#39;")
    _is_page(client.get("/no/such/page"), 404, "Not found")
    # Signed in, the error page keeps the navigation.
    _is_page(client.get("/no/such/page"), 404, "Log out")


def test_conflict_forbidden_and_invalid(
    app: FastAPI, client: TestClient, make_user: Callable[[Role], Login]
) -> None:
    key = _incident(app)
    csrf = client_log_in(client, make_user(Role.responder))
    skip = client.post(f"/incidents/{key}/status", data={"status": "contained", "csrf_token": csrf})
    _is_page(skip, 409, "cannot move from triage to contained", "allowed next: investigating")
    bad_value = client.post(f"/incidents/{key}/status", data={"status": "x", "csrf_token": csrf})
    _is_page(bad_value, 422, "status")
    close = client.post(f"/incidents/{key}/status", data={"status": "closed", "csrf_token": csrf})
    _is_page(close, 422, "closing from triage records an outcome", "outcome")

    with app.state.sessionmaker() as db:
        signal_id = signals.submit_report(db, text="something").signal.id
        db.commit()
    blank = client.post(f"/signals/{signal_id}/dismiss", data={"reason": "  ", "csrf_token": csrf})
    _is_page(blank, 422, "a reason is required")

    client.cookies.clear()
    viewer_csrf = client_log_in(client, make_user(Role.viewer))
    denied = client.post(
        f"/incidents/{key}/status", data={"status": "investigating", "csrf_token": viewer_csrf}
    )
    _is_page(denied, 403, "lacks the &#39;incident:write&#39; permission")


def test_wrong_method_and_oversize_forms(
    client: TestClient, make_user: Callable[[Role], Login]
) -> None:
    csrf = client_log_in(client, make_user(Role.responder))
    _is_page(client.get("/logout"), 405, "does not accept that kind of request")
    huge = client.post("/signals/1/dismiss", data={"reason": "r" * 70_000, "csrf_token": csrf})
    _is_page(huge, 413, "at most 65536 are accepted")


def test_the_api_is_untouched_by_the_pages(
    app: FastAPI, client: TestClient, make_user: Callable[[Role], Login]
) -> None:
    key = _incident(app)
    client_log_in(client, make_user(Role.viewer))
    # Same session cookie, API path: JSON problem document, not a page.
    response = client.get("/api/v1/incidents/AI-2026-9999")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    assert client.get(f"/api/v1/incidents/{key}").json()["key"] == key
