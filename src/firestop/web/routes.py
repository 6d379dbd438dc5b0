"""Server-rendered pages."""

from __future__ import annotations

from fastapi import FastAPI


def install(app: FastAPI) -> None:
    """Mount the pages, static files and HTML error handling on ``app``."""
