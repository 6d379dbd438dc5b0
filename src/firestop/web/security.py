"""Browser-facing protections: response headers, the pre-login CSRF token, safe redirects."""

from __future__ import annotations

import hmac
import secrets
from urllib.parse import urlsplit

from fastapi import Request, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from firestop.config import Settings
from firestop.errors import FirestopError

# Paths that belong to programs, not people: they keep JSON problem documents and get no
# page headers.
API_PREFIXES = ("/api/", "/v1/", "/ofrep/")
API_PATHS = frozenset({"/api", "/v1", "/ofrep", "/healthz", "/openapi.json"})

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
PAGE_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
]
# Pages carry incident data: never keep them in a shared or back-button cache.
NO_STORE = (b"cache-control", b"no-store")

# Before login there is no session to hold a CSRF token, so the login and public report
# forms use a double-submit cookie: the form must echo the cookie's random value.
FORM_CSRF_COOKIE = "firestop_csrf"


def is_page_path(path: str) -> bool:
    return path not in API_PATHS and not path.startswith(API_PREFIXES)


class PageHeaders:
    """ASGI middleware adding the security headers to every response on page paths."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_page_path(scope["path"]):
            await self.app(scope, receive, send)
            return
        static = scope["path"].startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [h for h in PAGE_HEADERS if h[0] not in present]
                if not static and b"cache-control" not in present:
                    extra.append(NO_STORE)
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def form_token(request: Request) -> str:
    """The double-submit value for a form shown before login: reuse the cookie's or mint one."""
    current = request.cookies.get(FORM_CSRF_COOKIE)
    if current and len(current) >= 32:
        return current
    return secrets.token_urlsafe(32)


def set_form_cookie(response: Response, token: str, settings: Settings) -> None:
    response.set_cookie(
        FORM_CSRF_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=settings.secure_cookies,
        path="/",
    )


def check_form_token(request: Request, supplied: str) -> None:
    """Refuse a pre-login form whose token does not match its cookie, or that came from
    another origin."""
    cookie = request.cookies.get(FORM_CSRF_COOKIE)
    origin = request.headers.get("origin")
    # Compare hosts only: behind a TLS-terminating proxy the scheme seen here is not the browser's.
    same_origin = origin is None or urlsplit(origin).netloc == request.url.netloc
    if not (cookie and supplied and same_origin and hmac.compare_digest(cookie, supplied)):
        raise FirestopError(
            "this form has expired or did not come from this site; reload the page and "
            "submit it again",
            [],
            403,
            "Forbidden",
            "csrf",
        )


def safe_next(target: str | None, default: str = "/") -> str:
    """Only a path on this site may follow a login; anything else goes to ``default``."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return default
    if "\\" in target or any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target
