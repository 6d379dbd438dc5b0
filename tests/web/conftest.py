"""A live Firestop server and a real Chromium for the page tests.

The server runs uvicorn in a background thread on a free loopback port, on the same
``settings`` (SQLite or PostgreSQL) as the rest of the suite. The browser is launched once
per test process; each test gets a fresh context, so cookies never leak between tests.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest
from fastapi import FastAPI
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, sync_playwright
from sqlalchemy.orm import Session

from firestop.access import service as access
from firestop.access.models import Role
from firestop.inventory.demo import load_demo_inventory
from tests.conftest import LiveServer
from tests.web.support import PASSWORD, Login

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@dataclass
class BrowserPage:
    """A page plus the Content-Security-Policy violations and script errors it caused."""

    page: Page
    violations: list[str] = field(default_factory=list)


@pytest.fixture
def make_user(app: FastAPI) -> Callable[[Role], Login]:
    """Create a user with a known password; each call makes a new one."""
    made: list[str] = []

    def make(role: Role) -> Login:
        username = f"{role.value}{len(made) + 1}"
        with app.state.sessionmaker() as db:
            access.create_user(
                db, username=username, password=PASSWORD, role=role, display_name=username.title()
            )
            db.commit()
        made.append(username)
        return Login(username, PASSWORD, role)

    return make


@pytest.fixture
def session(app: FastAPI) -> Iterator[Session]:
    """A session for arranging data; commit before the browser or client looks."""
    with app.state.sessionmaker() as db:
        yield db


@pytest.fixture
def demo(app: FastAPI) -> None:
    """The demo organisation (Harbourline Mutual) in the inventory."""
    with app.state.sessionmaker() as db:
        load_demo_inventory(db)
        db.commit()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not os.path.exists(CHROMIUM):
        pytest.fail(
            f"Chromium is not installed at {CHROMIUM}; install Debian's 'chromium' package "
            "(the page tests drive a real browser and must not be skipped)",
            pytrace=False,
        )
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def context(browser: Browser, live_server: LiveServer) -> Iterator[BrowserContext]:
    ctx = browser.new_context(base_url=live_server.url)
    ctx.set_default_timeout(10_000)
    yield ctx
    ctx.close()


@pytest.fixture
def browser_page(context: BrowserContext) -> Iterator[BrowserPage]:
    """Every page a test visits must render without tripping the Content-Security-Policy:
    no inline script or style of ours, and none smuggled in by hostile content."""
    page = context.new_page()
    seen = BrowserPage(page)

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error" and "Content Security Policy" in message.text:
            seen.violations.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda exc: seen.violations.append(str(exc)))
    yield seen
    assert seen.violations == [], f"the pages broke their Content-Security-Policy: {seen}"


@pytest.fixture
def page(browser_page: BrowserPage) -> Page:
    return browser_page.page
