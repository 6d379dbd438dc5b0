"""Who is calling and what they may do.

An API caller presents ``Authorization: Bearer <token>``; a browser presents the session
cookie, and every state-changing request it makes must also carry the session's CSRF token
(form field ``csrf_token`` or header ``X-CSRF-Token``).
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any

from fastapi import Depends, Request

from firestop.access import service as access
from firestop.access.models import Role
from firestop.deps import DB
from firestop.errors import FirestopError

SESSION_COOKIE = "firestop_session"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class Permission(StrEnum):
    read = "read"  # see incidents, signals and inventory
    triage = "triage"  # act on signals in the triage queue
    incident_write = "incident:write"  # open and change incidents, participants
    claim_write = "claim:write"  # record findings (claims) and evidence references
    inventory_write = "inventory:write"  # change the AI inventory
    admin = "admin"  # users and tokens
    report = "report"  # submit reports on behalf of others (help desk)
    ingest = "ingest"  # send interactions, metrics and alerts (applications, collectors)
    content_read = "content:read"  # read prompts and outputs in the ledger (each read recorded)


_ALL = frozenset(Permission)
_READER = frozenset({Permission.read})
_SPECIALIST = _READER | {Permission.claim_write}

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.admin: _ALL,
    Role.responder: _SPECIALIST
    | {Permission.triage, Permission.incident_write, Permission.report, Permission.content_read},
    Role.legal: _SPECIALIST | {Permission.content_read},
    Role.privacy: _SPECIALIST | {Permission.content_read},
    Role.risk: _SPECIALIST | {Permission.inventory_write},
    Role.comms: _READER,
    Role.viewer: _READER,
    Role.reporter: frozenset({Permission.report}),
    Role.telemetry: frozenset({Permission.ingest, Permission.report}),
}


@dataclass(frozen=True)
class Principal:
    """The authenticated caller: a user (via session or token) or an API token."""

    name: str
    role: Role
    kind: str  # "user" or "token"
    csrf_token: str | None = None

    def can(self, permission: Permission) -> bool:
        return permission in ROLE_PERMISSIONS[self.role]

    @property
    def actor(self) -> str:
        """How the caller is named on timelines and audit records."""
        return self.name if self.kind == "user" else f"token:{self.name}"


def unauthorized(detail: str = "authentication required") -> FirestopError:
    return FirestopError(detail, [], 401, "Unauthorized", "unauthorized")


async def _csrf_ok(request: Request, expected: str) -> bool:
    supplied = request.headers.get("x-csrf-token")
    if supplied is None:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            value = (await request.form()).get("csrf_token")
            supplied = value if isinstance(value, str) else None
    return supplied is not None and hmac.compare_digest(supplied, expected)


async def optional_principal(request: Request, db: DB) -> Principal | None:
    header = request.headers.get("authorization")
    if header is not None:
        scheme, _, credential = header.partition(" ")
        if scheme.lower() != "bearer" or not credential.strip():
            raise unauthorized("the Authorization header must be 'Bearer <token>'")
        token = access.token_from_bearer(db, credential.strip())
        if token is None:
            raise unauthorized("the bearer token is unknown or revoked")
        db.commit()  # keep last_used_at
        return Principal(name=token.name, role=Role(token.role), kind="token")
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie is None:
        return None
    found = access.session_user(db, cookie)
    if found is None:
        return None
    web_session, user = found
    if request.method not in SAFE_METHODS and not await _csrf_ok(request, web_session.csrf_token):
        raise FirestopError(
            "missing or wrong CSRF token for a browser session", [], 403, "Forbidden", "csrf"
        )
    return Principal(
        name=user.username, role=Role(user.role), kind="user", csrf_token=web_session.csrf_token
    )


async def current_principal(
    principal: Annotated[Principal | None, Depends(optional_principal)],
) -> Principal:
    if principal is None:
        raise unauthorized()
    return principal


def require(
    permission: Permission,
) -> Callable[[Principal], Coroutine[Any, Any, Principal]]:
    """Dependency factory: the caller must hold ``permission``."""

    async def check(
        principal: Annotated[Principal, Depends(current_principal)],
    ) -> Principal:
        if not principal.can(permission):
            raise FirestopError(
                f"role {principal.role.value!r} lacks the {permission.value!r} permission",
                [],
                403,
                "Forbidden",
                "forbidden",
            )
        return principal

    return check


Reader = Annotated[Principal, Depends(require(Permission.read))]
Triager = Annotated[Principal, Depends(require(Permission.triage))]
IncidentWriter = Annotated[Principal, Depends(require(Permission.incident_write))]
ClaimWriter = Annotated[Principal, Depends(require(Permission.claim_write))]
InventoryWriter = Annotated[Principal, Depends(require(Permission.inventory_write))]
Ingester = Annotated[Principal, Depends(require(Permission.ingest))]
ContentReader = Annotated[Principal, Depends(require(Permission.content_read))]
Admin = Annotated[Principal, Depends(require(Permission.admin))]
MaybePrincipal = Annotated[Principal | None, Depends(optional_principal)]
