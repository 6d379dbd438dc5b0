"""Helpers for the page tests: signing in (browser and TestClient) and checking that
hostile text stayed text."""

from __future__ import annotations

import re
from dataclasses import dataclass

from fastapi.testclient import TestClient
from playwright.sync_api import Locator, Page, expect

from firestop.access.models import Role

PASSWORD = "correct horse battery staple"

# Markup a reporter or an AI system might send. Each would set window.__pwned if a page
# ever let it run; shown as text, it must appear literally.
SCRIPT_PAYLOAD = "<script>window.__pwned=1</script>"
ATTRIBUTE_PAYLOAD = '"><img src=x onerror="window.__pwned=2">'
HOSTILE_TEXT = f"The assistant replied {SCRIPT_PAYLOAD} and then {ATTRIBUTE_PAYLOAD} twice."

_CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]*)"')


@dataclass
class Login:
    username: str
    password: str
    role: Role


def log_in(page: Page, login: Login, *, next_path: str = "/") -> None:
    page.goto(f"/login?next={next_path}")
    page.get_by_label("Username").fill(login.username)
    page.get_by_label("Password").fill(login.password)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("form.who")).to_contain_text(login.username)


def assert_inert(page: Page, *literals: str) -> None:
    """Nothing hostile ran or became markup, and each literal is on the page as text."""
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert page.locator("img[src='x']").count() == 0
    injected = page.evaluate(
        """() => [...document.querySelectorAll('script')]
                 .filter(s => s.textContent.includes('__pwned')).length"""
    )
    assert injected == 0
    handlers = page.evaluate(
        """() => [...document.querySelectorAll('*')]
                 .filter(e => [...e.attributes].some(a => a.name.startsWith('on'))).length"""
    )
    assert handlers == 0
    for literal in literals:
        expect(page.get_by_text(literal).filter(visible=True).first).to_be_visible()


def csrf_from(html: str) -> str:
    found = _CSRF_FIELD.search(html)
    assert found, "the page has no form carrying a CSRF token"
    return found.group(1)


def client_log_in(client: TestClient, login: Login) -> str:
    """Sign the TestClient in through the login form; returns the session's CSRF token."""
    form = client.get("/login")
    response = client.post(
        "/login",
        data={
            "username": login.username,
            "password": login.password,
            "csrf_token": csrf_from(form.text),
        },
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return csrf_from(client.get("/").text)


def open_form(scope: Page | Locator, summary: str) -> None:
    """Unfold the ``<details>`` whose summary reads ``summary``."""
    scope.locator("summary").filter(has_text=summary).click()
