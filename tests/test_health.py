from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.exc import IntegrityError


def test_health_needs_no_credential(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_unknown_route_is_a_problem_document(client: TestClient) -> None:
    response = client.get("/api/v1/nope")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["status"] == 404


def test_a_lost_race_at_the_database_is_a_409_problem(app: FastAPI) -> None:
    """Uniqueness is checked first; a concurrent writer can still win at commit time."""

    @app.get("/api/v1/_race")
    def race() -> None:
        raise IntegrityError("INSERT ...", {}, Exception("UNIQUE constraint failed"))

    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/api/v1/_race")
    assert response.status_code == 409
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "try again" in response.json()["detail"]
    assert "UNIQUE" not in response.text
