"""Row ids in URL paths beyond the database's integer range are refused with a 422, never a 500.

SQLite raises OverflowError and PostgreSQL a DataError for such a number, so the bound is
checked on the path itself; the API answers with a problem document, the pages with the
HTML error page.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from firestop.access.models import Role
from tests.web.support import Login, client_log_in

HUGE = "9" * 25

API_CALLS = [
    ("get", f"/api/v1/signals/{HUGE}", None),
    ("post", f"/api/v1/signals/{HUGE}/dismiss", {"reason": "noise"}),
    ("post", f"/api/v1/incidents/INC-1/claims/{HUGE}/status", {"status": "confirmed"}),
    ("post", f"/api/v1/incidents/INC-1/external-refs/{HUGE}/remove", None),
    ("post", f"/api/v1/tokens/{HUGE}/revoke", None),
    ("get", f"/api/v1/inventory/assignments/{HUGE}", None),
    ("get", f"/api/v1/inventory/authority/{HUGE}", None),
]


@pytest.mark.parametrize(("method", "path", "body"), API_CALLS)
def test_an_api_path_id_out_of_range_is_a_problem_not_a_crash(
    client: TestClient,
    auth: Callable[[Role | str], dict[str, str]],
    method: str,
    path: str,
    body: dict[str, str] | None,
) -> None:
    response = client.request(method, path, json=body, headers=auth(Role.admin))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")


PAGE_POSTS = [
    (f"/signals/{HUGE}/dismiss", {"reason": "noise"}),
    (f"/signals/{HUGE}/accept", {}),
    (f"/incidents/INC-1/claims/{HUGE}", {"evidence_ref": "ticket-1"}),
    (f"/incidents/INC-1/participants/{HUGE}/remove", {}),
    (f"/incidents/INC-1/external-refs/{HUGE}/remove", {}),
]


@pytest.mark.parametrize(("path", "fields"), PAGE_POSTS)
def test_a_page_path_id_out_of_range_shows_the_error_page(
    client: TestClient, make_user: Callable[[Role], Login], path: str, fields: dict[str, str]
) -> None:
    csrf = client_log_in(client, make_user(Role.admin))
    response = client.post(path, data={"csrf_token": csrf, **fields}, follow_redirects=False)
    assert response.status_code == 422, response.text
    assert "text/html" in response.headers["content-type"]


def test_a_signal_page_id_out_of_range_shows_the_error_page(
    client: TestClient, make_user: Callable[[Role], Login]
) -> None:
    client_log_in(client, make_user(Role.viewer))
    response = client.get(f"/signals/{HUGE}")
    assert response.status_code == 422
    assert "text/html" in response.headers["content-type"]
