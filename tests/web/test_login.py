"""Logging in and out, in a real browser and at the HTTP level."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Page, expect

from firestop.access.models import Role
from firestop.api import create_app
from firestop.config import Settings
from tests.web.conftest import BrowserPage
from tests.web.support import PASSWORD, Login, client_log_in, log_in


def _form_token(client: TestClient, path: str = "/login") -> str:
    response = client.get(path)
    assert response.status_code == 200
    token = client.cookies.get("firestop_csrf")
    assert token
    assert f'value="{token}"' in response.text
    return token


@pytest.mark.browser
def test_login_redirects_back_and_logout_ends_the_session(
    page: Page, make_user: Callable[[Role], Login]
) -> None:
    user = make_user(Role.viewer)
    page.goto("/incidents?open=1")
    expect(page).to_have_url("/login?next=/incidents%3Fopen%3D1")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(user.password)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url("/incidents?open=1")
    expect(page.locator("form.who")).to_contain_text(user.username)

    cookie = next(c for c in page.context.cookies() if c["name"] == "firestop_session")
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Lax"

    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url("/login")
    page.goto("/")
    expect(page).to_have_url("/login?next=/")


@pytest.mark.browser
def test_wrong_password_gives_the_generic_message(
    browser_page: BrowserPage, make_user: Callable[[Role], Login]
) -> None:
    page = browser_page.page
    user = make_user(Role.viewer)
    for username, password in ((user.username, "not the password"), ("nobody", PASSWORD)):
        page.goto("/login")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Log in").click()
        expect(page.get_by_role("alert")).to_have_text("invalid username or password")
        expect(page).to_have_url("/login")


@pytest.mark.browser
def test_next_never_leaves_the_site(page: Page, make_user: Callable[[Role], Login]) -> None:
    user = make_user(Role.viewer)
    log_in(page, user, next_path="//evil.example/x")
    expect(page).to_have_url("/")


def test_login_form_is_csrf_protected(
    client: TestClient, make_user: Callable[[Role], Login]
) -> None:
    user = make_user(Role.viewer)
    token = _form_token(client)
    fields = {"username": user.username, "password": user.password, "next": "/"}
    refused = client.post("/login", data=fields, follow_redirects=False)
    assert refused.status_code == 403
    assert "firestop_session" not in refused.cookies
    wrong = client.post(
        "/login", data={**fields, "csrf_token": token + "x"}, follow_redirects=False
    )
    assert wrong.status_code == 403
    cross = client.post(
        "/login",
        data={**fields, "csrf_token": token},
        headers={"Origin": "http://evil.example"},
        follow_redirects=False,
    )
    assert cross.status_code == 403
    ok = client.post("/login", data={**fields, "csrf_token": token}, follow_redirects=False)
    assert ok.status_code == 303
    assert ok.headers["location"] == "/"
    assert "firestop_session" in ok.cookies


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example", "/\\evil.example", "javascript:alert(1)"]
)
def test_login_ignores_off_site_next(
    client: TestClient, make_user: Callable[[Role], Login], target: str
) -> None:
    user = make_user(Role.viewer)
    token = _form_token(client)
    response = client.post(
        "/login",
        data={"username": user.username, "password": PASSWORD, "csrf_token": token, "next": target},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/"


def test_logout_needs_the_csrf_token(
    client: TestClient, make_user: Callable[[Role], Login]
) -> None:
    user = make_user(Role.viewer)
    csrf = client_log_in(client, user)
    refused = client.post("/logout", follow_redirects=False)
    assert refused.status_code == 403
    assert "CSRF" in refused.text
    assert client.get("/", follow_redirects=False).status_code == 200
    done = client.post("/logout", data={"csrf_token": csrf}, follow_redirects=False)
    assert done.status_code == 303
    assert client.get("/", follow_redirects=False).status_code == 303


def test_password_guessing_is_throttled_per_address(
    settings: Settings, make_user: Callable[[Role], Login]
) -> None:
    user = make_user(Role.viewer)
    strict = create_app(settings.model_copy(update={"login_attempts_per_minute": 3}))
    try:
        with TestClient(strict, raise_server_exceptions=False) as client:
            token = _form_token(client)
            fields = {"username": user.username, "next": "/", "csrf_token": token}
            for _ in range(3):
                wrong = client.post("/login", data={**fields, "password": "not it at all"})
                assert wrong.status_code == 400
            # Even the right password is refused until the window has passed.
            right = client.post(
                "/login", data={**fields, "password": user.password}, follow_redirects=False
            )
            assert right.status_code == 429
            assert "Too many sign-in attempts" in right.text
            assert "firestop_session" not in right.cookies
    finally:
        strict.state.engine.dispose()
