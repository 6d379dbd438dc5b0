"""Errors on page paths: a readable page, or a redirect to the login form when unauthenticated.

The API keeps its RFC 9457 documents; :func:`error_page` is the hook ``problems`` calls first.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote, urlsplit

from fastapi import Request, Response
from fastapi.responses import RedirectResponse

from firestop.access import service as access
from firestop.access.models import Role
from firestop.auth import SESSION_COOKIE, Principal
from firestop.web.security import is_page_path, safe_next
from firestop.web.templating import render

log = logging.getLogger("firestop.web")

_EXPLANATIONS = {
    403: "You are signed in, but your role does not allow this.",
    404: "There is nothing here. It may have been mistyped, or it was never created.",
    405: "This address does not accept that kind of request.",
    409: "This conflicts with the current state of the record; reload it and try again.",
    413: "What you sent is larger than Firestop accepts.",
    422: "Some of what you entered could not be used.",
    429: "Too many requests in a short time. Wait a minute and try again.",
    500: "Something went wrong on our side. It has been logged.",
}


def signed_in(request: Request) -> Principal | None:
    """Who is signed in, so an error page keeps the navigation; None when unknown.

    Best effort: the error may be the database itself, and the page must still render.
    """
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    try:
        with request.app.state.sessionmaker() as db:
            found = access.session_user(db, cookie)
    except Exception:  # the error page must not fail in turn
        log.warning("could not look up the session for an error page", exc_info=True)
        return None
    if found is None:
        return None
    web_session, user = found
    # The same principal firestop.auth.optional_principal makes for a session cookie.
    return Principal(
        name=user.username, role=Role(user.role), kind="user", csrf_token=web_session.csrf_token
    )


def referring_page(request: Request) -> str | None:
    """The local page the browser came from, if it came from this site."""
    referer = urlsplit(request.headers.get("referer", ""))
    if referer.netloc != request.url.netloc or not referer.path:
        return None
    if referer.path == "/login":
        return None
    back = referer.path + (f"?{referer.query}" if referer.query else "")
    return safe_next(back, default="") or None


def login_redirect(request: Request) -> RedirectResponse:
    """Send the browser to the login form and, after it, back to where it was going."""
    if request.method in ("GET", "HEAD"):
        back = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    else:
        # A form post cannot be replayed after login; return to the page that held the form.
        back = referring_page(request) or "/"
    return RedirectResponse(f"/login?next={quote(back, safe='/')}", status_code=303)


def error_page(request: Request, body: dict[str, Any], headers: dict[str, str]) -> Response | None:
    if not is_page_path(request.url.path):
        return None
    status = int(body["status"])
    if status == 401:
        return login_redirect(request)
    keep = {k: v for k, v in headers.items() if k.lower() in ("retry-after", "allow", "connection")}
    return render(
        request,
        "error.html",
        principal=signed_in(request),
        status_code=status,
        headers=keep,
        status=status,
        title=str(body.get("title", "Error")),
        detail=str(body.get("detail", "")),
        explanation=_EXPLANATIONS.get(status, ""),
        errors=[e for e in body.get("errors", []) if isinstance(e, dict)],
        back=referring_page(request),
    )
