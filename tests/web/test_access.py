"""Who may see and do what on the pages, at the HTTP level: redirects to the login form,
the public pages, CSRF on cookie-authenticated posts, and the security headers."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from firestop.access.models import Role
from firestop.signals import service as signals
from firestop.web.security import CSP
from tests.web.support import Login, client_log_in

PAGES = [
    "/",
    "/incidents",
    "/incidents?open=1&severity=SEV1",
    "/incidents/AI-2026-0001",
    "/inventory",
    "/inventory/systems/support-assistant",
    "/inventory/vendors",
    "/inventory/people",
]


@pytest.mark.parametrize("path", PAGES)
def test_pages_send_the_browser_to_login(client: TestClient, path: str) -> None:
    response = client.get(path, follow_redirects=False)
    assert response.status_code == 303
    location = response.headers["location"]
    assert location.startswith("/login?next=")
    # The way back survives the trip, query string included.
    client.get("/login")  # the login page itself is public
    expected = path.replace("?", "%3F").replace("&", "%26").replace("=", "%3D")
    assert location == f"/login?next={expected}"


@pytest.mark.parametrize(
    "path",
    [
        "/signals/1/accept",
        "/signals/1/dismiss",
        "/signals/1/near-miss",
        "/incidents/AI-2026-0001/status",
        "/incidents/AI-2026-0001/claims",
    ],
)
def test_posts_without_a_session_go_to_login(client: TestClient, path: str) -> None:
    response = client.post(
        path,
        data={"reason": "x"},
        headers={"Referer": "http://testserver/"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/"


def test_public_pages_need_no_session(app: FastAPI, client: TestClient) -> None:
    with app.state.sessionmaker() as db:
        reference = signals.submit_report(db, text="it said something odd").reference
        db.commit()
    for path in ("/login", "/report", f"/report/{reference}", "/static/firestop.css"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 200, path


def test_a_session_opens_every_page(client: TestClient, make_user: Callable[[Role], Login]) -> None:
    client_log_in(client, make_user(Role.viewer))
    for path in ("/", "/incidents", "/inventory", "/inventory/vendors", "/inventory/people"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 200, path
        assert response.headers["content-type"].startswith("text/html")


def test_cookie_posts_without_the_csrf_token_are_refused(
    app: FastAPI, client: TestClient, make_user: Callable[[Role], Login]
) -> None:
    with app.state.sessionmaker() as db:
        signal_id = signals.submit_report(db, text="please look at this").signal.id
        db.commit()
    csrf = client_log_in(client, make_user(Role.responder))
    action = f"/signals/{signal_id}/dismiss"

    refused = client.post(action, data={"reason": "noise"}, follow_redirects=False)
    assert refused.status_code == 403
    assert "CSRF" in refused.text
    assert refused.headers["content-type"].startswith("text/html")
    wrong = client.post(
        action, data={"reason": "noise", "csrf_token": "x" * 43}, follow_redirects=False
    )
    assert wrong.status_code == 403
    with app.state.sessionmaker() as db:
        assert signals.get_signal(db, signal_id).status == "new"

    done = client.post(action, data={"reason": "noise", "csrf_token": csrf}, follow_redirects=False)
    assert done.status_code == 303
    with app.state.sessionmaker() as db:
        assert signals.get_signal(db, signal_id).status == "dismissed"


def test_pages_carry_the_security_headers(client: TestClient) -> None:
    for path in ("/login", "/report", "/nowhere", "/static/firestop.css"):
        response = client.get(path)
        assert response.headers["content-security-policy"] == CSP, path
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "same-origin"
    assert client.get("/login").headers["cache-control"] == "no-store"


def test_the_api_keeps_its_problem_documents(client: TestClient) -> None:
    for path, status in (("/api/v1/incidents", 401), ("/api/v1/nowhere", 404)):
        response = client.get(path)
        assert response.status_code == status
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["status"] == status
        assert "content-security-policy" not in response.headers
    assert client.get("/healthz").json()["status"] == "ok"
    # The OpenAPI document needs a credential too, and refuses as JSON, not with a redirect.
    document = client.get("/openapi.json")
    assert document.status_code == 401
    assert document.headers["content-type"].startswith("application/problem+json")


def test_session_cookie_flags(
    app: FastAPI, client: TestClient, make_user: Callable[[Role], Login]
) -> None:
    user = make_user(Role.viewer)
    form = client.get("/login")
    token = client.cookies["firestop_csrf"]
    assert "HttpOnly" in form.headers["set-cookie"]
    response = client.post(
        "/login",
        data={"username": user.username, "password": user.password, "csrf_token": token},
        follow_redirects=False,
    )
    cookie = next(
        c for c in response.headers.get_list("set-cookie") if c.startswith("firestop_session=")
    )
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Secure" not in cookie  # the test settings serve plain HTTP on loopback

    app.state.settings = app.state.settings.model_copy(update={"secure_cookies": True})
    with TestClient(app, base_url="https://testserver") as tls:
        tls.get("/login")
        secure = tls.post(
            "/login",
            data={
                "username": user.username,
                "password": user.password,
                "csrf_token": tls.cookies["firestop_csrf"],
            },
            follow_redirects=False,
        )
    cookies = secure.headers.get_list("set-cookie")
    assert any(c.startswith("firestop_session=") and "Secure" in c for c in cookies)
