"""RFC 9457 problem documents for every error the API returns; never a stack trace."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException

from firestop.errors import FirestopError, loc_path

log = logging.getLogger("firestop")
PROBLEM_TYPE = "https://firestop.dev/problems/"
_TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Content too large",
    415: "Unsupported media type",
    422: "Invalid input",
    429: "Too many requests",
}


# Another presentation of errors (the web pages) may answer on its own paths: it receives the
# problem document and returns a response, or None to leave the JSON document in place.
ErrorPage = Callable[[Request, dict[str, Any], dict[str, str]], Response | None]


def set_error_page(app: FastAPI, render: ErrorPage) -> None:
    app.state.error_page = render


def _body(
    request: Request,
    status: int,
    detail: str,
    title: str | None,
    type_slug: str | None,
    extensions: dict[str, Any],
) -> dict[str, Any]:
    return {
        "type": PROBLEM_TYPE + (type_slug or str(status)),
        "title": title or _TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
        "instance": request.url.path,
        **extensions,
    }


def problem(
    request: Request,
    status: int,
    detail: str,
    *,
    title: str | None = None,
    type_slug: str | None = None,
    headers: dict[str, str] | None = None,
    **extensions: Any,
) -> JSONResponse:
    body = _body(request, status, detail, title, type_slug, extensions)
    if status == 401:
        headers = {"WWW-Authenticate": 'Bearer realm="firestop"', **(headers or {})}
    return JSONResponse(
        body, status_code=status, headers=headers, media_type="application/problem+json"
    )


def _answer(
    request: Request,
    status: int,
    detail: str,
    *,
    title: str | None = None,
    type_slug: str | None = None,
    headers: dict[str, str] | None = None,
    **extensions: Any,
) -> Response:
    render: ErrorPage | None = getattr(request.app.state, "error_page", None)
    if render is not None:
        body = _body(request, status, detail, title, type_slug, extensions)
        page = render(request, body, dict(headers or {}))
        if page is not None:
            return page
    return problem(
        request, status, detail, title=title, type_slug=type_slug, headers=headers, **extensions
    )


def install(app: FastAPI) -> None:
    @app.exception_handler(FirestopError)
    async def _firestop(request: Request, exc: FirestopError) -> Response:
        return _answer(
            request,
            exc.status,
            exc.detail,
            title=exc.title,
            type_slug=exc.type_slug,
            **exc.extensions(),
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        errors = [
            {"loc": loc_path(e.get("loc", ())), "msg": str(e.get("msg", ""))} for e in exc.errors()
        ]
        summary = "; ".join(f"{e['loc']}: {e['msg']}" for e in errors[:5])
        return _answer(
            request,
            422,
            f"the request is invalid: {summary}",
            type_slug="invalid-input",
            errors=errors,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        return _answer(request, exc.status_code, str(exc.detail), headers=dict(exc.headers or {}))

    @app.exception_handler(IntegrityError)
    async def _integrity(request: Request, exc: IntegrityError) -> Response:
        # Services check uniqueness and references first; reaching the database's own check
        # means a concurrent request changed the same thing between that check and the commit.
        log.info("integrity conflict on %s %s: %s", request.method, request.url.path, exc.orig)
        return _answer(
            request,
            409,
            "another change to the same record was saved at the same moment; reload and try again",
            title="Conflict",
            type_slug="conflict",
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return _answer(
            request,
            500,
            "an internal error occurred; it has been logged",
            title="Internal server error",
            type_slug="internal",
        )
