"""Logging in and out of the web interface."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request, Response
from fastapi.responses import RedirectResponse

from firestop.access import service as access
from firestop.auth import SESSION_COOKIE, MaybePrincipal
from firestop.config import Settings
from firestop.deps import DB, AppSettings
from firestop.errors import FirestopError
from firestop.ratelimit import client_address
from firestop.web.security import (
    FORM_CSRF_COOKIE,
    check_form_token,
    form_token,
    safe_next,
    set_form_cookie,
)
from firestop.web.templating import render

router = APIRouter(include_in_schema=False)

LOGIN_FAILED = "invalid username or password"


def _login_page(
    request: Request,
    settings: Settings,
    *,
    next_path: str,
    error: str | None = None,
    username: str = "",
    status_code: int = 200,
) -> Response:
    token = form_token(request)
    response = render(
        request,
        "login.html",
        status_code=status_code,
        csrf_token=token,
        next_path=next_path,
        error=error,
        username=username,
    )
    set_form_cookie(response, token, settings)
    return response


@router.get("/login")
def login_form(
    request: Request,
    principal: MaybePrincipal,
    settings: AppSettings,
    next_path: Annotated[str | None, Query(alias="next")] = None,
) -> Response:
    target = safe_next(next_path)
    if principal is not None:
        return RedirectResponse(target, status_code=303)
    return _login_page(request, settings, next_path=target)


@router.post("/login")
def login(
    request: Request,
    db: DB,
    settings: AppSettings,
    username: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    next_path: Annotated[str, Form(alias="next", max_length=2000)] = "/",
) -> Response:
    target = safe_next(next_path)
    try:
        check_form_token(request, csrf_token)
    except FirestopError as exc:
        return _login_page(
            request,
            settings,
            next_path=target,
            error=exc.detail,
            username=username,
            status_code=403,
        )
    attempt = request.app.state.login_limiter.hit(client_address(request))
    if not attempt.allowed:
        return _login_page(
            request,
            settings,
            next_path=target,
            error=f"Too many sign-in attempts from your address; try again in "
            f"{attempt.retry_after} seconds.",
            username=username,
            status_code=429,
        )
    user = access.authenticate(db, username=username, password=password)
    if user is None:
        return _login_page(
            request,
            settings,
            next_path=target,
            error=LOGIN_FAILED,
            username=username,
            status_code=400,
        )
    previous = request.cookies.get(SESSION_COOKIE)
    if previous:
        access.close_session(db, previous)
    _, clear = access.open_session(db, user=user, hours=settings.session_hours)
    db.commit()
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        clear,
        max_age=settings.session_hours * 3600,
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
        path="/",
    )
    response.delete_cookie(FORM_CSRF_COOKIE, path="/")
    return response


@router.post("/logout")
def logout(request: Request, db: DB, settings: AppSettings, _: MaybePrincipal) -> Response:
    # Reaching here means the session, if still valid, passed the CSRF check.
    clear = request.cookies.get(SESSION_COOKIE)
    if clear:
        access.close_session(db, clear)
        db.commit()
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(
        SESSION_COOKIE, path="/", secure=settings.secure_cookies, httponly=True, samesite="lax"
    )
    return response
