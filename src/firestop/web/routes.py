"""Server-rendered pages."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from firestop import problems
from firestop.web import (
    forms_incidents,
    pages_dashboard,
    pages_incidents,
    pages_inventory,
    pages_report,
    pages_signals,
    pages_triage,
    session,
)
from firestop.web.errors import error_page
from firestop.web.forms import FormSizeLimit
from firestop.web.security import PageHeaders

STATIC = Path(__file__).parent / "static"


def install(app: FastAPI) -> None:
    """Mount the pages, static files and HTML error handling on ``app``."""
    problems.set_error_page(app, error_page)
    # Added last, so outermost: even a refused oversize form gets the page headers.
    app.add_middleware(FormSizeLimit)
    app.add_middleware(PageHeaders)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for module in (
        session,
        pages_dashboard,
        pages_triage,
        pages_signals,
        pages_incidents,
        forms_incidents,
        pages_inventory,
        pages_report,
    ):
        app.include_router(module.router)
