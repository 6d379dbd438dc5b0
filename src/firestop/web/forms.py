"""Form posts to the pages are bounded in size before anything reads them.

FastAPI parses a form body before any dependency runs, so the bound cannot be a dependency:
this middleware refuses a post on a page path whose declared length is over the limit (or
not declared at all; browsers always declare it). The server then never reads more than
the declared length.
"""

from __future__ import annotations

import re
from typing import Any

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from firestop.config import Settings
from firestop.web.security import is_page_path

FORM_MAX_BYTES = 64 * 1024
REPORT_PATH = "/report"
# Percent-encoding can triple every byte of the report text; the other fields are short.
_ENCODING_FACTOR = 3
_OTHER_FIELDS = 8 * 1024
# The incident facts form carries what happened, the summary and the title (20,000 + 4,000 +
# 200 characters at most), in any script: up to four UTF-8 bytes a character, each
# percent-encoded as three. Its other fields fit in what any other form may send.
FACTS_PATH = re.compile(r"/incidents/[^/]+/facts")
_FACTS_TEXT = 20_000 + 4_000 + 200
_UTF8_ENCODED = 4 * 3
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def form_limit(path: str, settings: Settings) -> int:
    if path == REPORT_PATH:
        return settings.report_max_bytes * _ENCODING_FACTOR + _OTHER_FIELDS
    if FACTS_PATH.fullmatch(path):
        return _FACTS_TEXT * _UTF8_ENCODED + FORM_MAX_BYTES
    return FORM_MAX_BYTES


class FormSizeLimit:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] not in _BODY_METHODS
            or not is_page_path(scope["path"])
        ):
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        settings: Settings = scope["app"].state.settings
        limit = form_limit(scope["path"], settings)
        declared = request.headers.get("content-length", "")
        problem: dict[str, Any] | None = None
        if not declared.isdigit():
            problem = {"status": 411, "title": "Length required", "detail": _UNDECLARED}
        elif int(declared) > limit:
            detail = f"what you sent is {int(declared)} bytes; at most {limit} are accepted here"
            problem = {"status": 413, "title": "Content too large", "detail": detail}
        if problem is None:
            await self.app(scope, receive, send)
            return
        from firestop.web.errors import error_page

        response = error_page(request, problem, {"connection": "close"})
        assert response is not None  # page paths always get a page
        await response(scope, receive, send)


_UNDECLARED = "the length of the form was not declared; send it from a web browser"
