from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from firestop.access import service
from firestop.access.models import ApiToken, Role, User
from firestop.auth import ROLE_PERMISSIONS, Permission

Auth = Callable[[Role | str], dict[str, str]]

# Routes anyone may call: health, the public report intake and the reporter's status view.
PUBLIC = {
    ("GET", "/healthz"),
    ("POST", "/api/v1/reports"),
    ("GET", "/api/v1/reports/{reference}"),
}


def api_routes(app: FastAPI) -> list[tuple[str, str]]:
    """Every API operation, read from the OpenAPI document the app publishes."""
    return [
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        if path.startswith("/api/")
        for method in operations
    ]


def concrete(path: str) -> str:
    """Fill path parameters with plausible values; authorization comes before lookup."""
    out = path
    while "{" in out:
        start, end = out.index("{"), out.index("}")
        out = out[:start] + "1" + out[end + 1 :]
    return out


def test_every_api_route_needs_a_credential(app: FastAPI, client: TestClient) -> None:
    routes = [r for r in api_routes(app) if r not in PUBLIC]
    assert len(routes) >= 8
    for method, path in routes:
        response = client.request(method, concrete(path))
        assert response.status_code == 401, (method, path, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.headers["www-authenticate"].startswith("Bearer")
        assert response.json()["status"] == 401


def test_reporter_role_can_reach_no_internal_route(
    app: FastAPI, client: TestClient, auth: Auth
) -> None:
    headers = auth(Role.reporter)
    for method, path in api_routes(app):
        if (method, path) in PUBLIC or path == "/api/v1/me":
            continue
        response = client.request(method, concrete(path), headers=headers)
        assert response.status_code == 403, (method, path, response.text)
        assert "lacks the" in response.json()["detail"]


def test_public_routes_answer_without_credential(client: TestClient) -> None:
    assert client.get("/healthz").status_code == 200


def test_openapi_document_needs_a_reader(client: TestClient, auth: Auth) -> None:
    assert client.get("/openapi.json").status_code == 401
    assert client.get("/openapi.json", headers=auth(Role.reporter)).status_code == 403
    document = client.get("/openapi.json", headers=auth(Role.viewer)).json()
    assert "/api/v1/incidents" in document["paths"]


@pytest.mark.parametrize("header", ["Basic abc", "Bearer", "Bearer fst_not-a-real-token", "x"])
def test_bad_authorization_headers_are_401(client: TestClient, header: str) -> None:
    response = client.get("/api/v1/me", headers={"Authorization": header})
    assert response.status_code == 401
    assert response.json()["detail"]


def test_token_is_stored_hashed_and_revocable(client: TestClient, auth: Auth, db: Session) -> None:
    admin = auth(Role.admin)
    created = client.post("/api/v1/tokens", json={"name": "ci", "role": "viewer"}, headers=admin)
    assert created.status_code == 201
    clear = created.json()["token"]
    stored = db.scalar(select(ApiToken).where(ApiToken.name == "ci"))
    assert stored is not None and clear not in stored.token_hash
    assert stored.token_hash == service.sha256_hex(clear)
    viewer = {"Authorization": f"Bearer {clear}"}
    assert client.get("/api/v1/me", headers=viewer).json() == {
        "name": "ci",
        "role": "viewer",
        "kind": "token",
    }
    assert client.get("/api/v1/tokens", headers=viewer).status_code == 403
    revoked = client.post(f"/api/v1/tokens/{created.json()['id']}/revoke", headers=admin)
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    assert client.get("/api/v1/me", headers=viewer).status_code == 401


def test_passwords_are_argon2_and_checked(db: Session) -> None:
    user = service.create_user(
        db, username="rita", password="correct horse battery", role=Role.responder
    )
    assert user.password_hash.startswith("$argon2id$")
    assert service.authenticate(db, username="rita", password="correct horse battery") is user
    assert service.authenticate(db, username="rita", password="wrong password!!") is None
    assert service.authenticate(db, username="nobody", password="correct horse battery") is None
    service.set_user_active(db, username="rita", active=False)
    assert service.authenticate(db, username="rita", password="correct horse battery") is None


def test_user_api_validates_and_rejects_duplicates(client: TestClient, auth: Auth) -> None:
    admin = auth(Role.admin)
    body = {"username": "lee", "password": "long enough pw", "role": "legal"}
    assert client.post("/api/v1/users", json=body, headers=admin).status_code == 201
    dup = client.post("/api/v1/users", json=body, headers=admin)
    assert dup.status_code == 409 and "already exists" in dup.json()["detail"]
    bad = client.post(
        "/api/v1/users", json={**body, "username": "x y", "role": "king"}, headers=admin
    )
    assert bad.status_code == 422
    locs = {e["loc"] for e in bad.json()["errors"]}
    assert {"body.username", "body.role"} <= locs
    assert client.post("/api/v1/users", json=body, headers=auth(Role.responder)).status_code == 403


def test_session_writes_need_the_csrf_token(app: FastAPI, client: TestClient, db: Session) -> None:
    user = db.scalar(select(User).where(User.username == "admin"))
    if user is None:
        user = service.create_user(
            db, username="admin", password="a long password", role=Role.admin
        )
    web_session, cookie = service.open_session(db, user=user, hours=1)
    db.commit()
    client.cookies.set("firestop_session", cookie)
    assert client.get("/api/v1/me").json()["kind"] == "user"
    body = {"name": "from-browser", "role": "viewer"}
    refused = client.post("/api/v1/tokens", json=body)
    assert refused.status_code == 403 and "CSRF" in refused.json()["detail"]
    wrong = client.post("/api/v1/tokens", json=body, headers={"X-CSRF-Token": "nope"})
    assert wrong.status_code == 403
    ok = client.post("/api/v1/tokens", json=body, headers={"X-CSRF-Token": web_session.csrf_token})
    assert ok.status_code == 201


def test_every_role_has_a_permission_set() -> None:
    assert set(ROLE_PERMISSIONS) == set(Role)
    assert ROLE_PERMISSIONS[Role.admin] == frozenset(Permission)
    assert Permission.read not in ROLE_PERMISSIONS[Role.reporter]
