"""Users, tokens and sessions. Functions take a session and never commit."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from firestop.access.models import ApiToken, Role, User, WebSession
from firestop.db import utcnow
from firestop.errors import conflict, not_found

TOKEN_PREFIX = "fst_"  # noqa: S105 - a marker, not a secret
_hasher = PasswordHasher()


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """Verifying against this keeps login time the same whether or not the user exists."""
    return _hasher.hash("firestop-timing-equaliser")


def sha256_hex(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def create_user(
    db: Session,
    *,
    username: str,
    password: str,
    role: Role,
    display_name: str = "",
    email: str | None = None,
) -> User:
    if db.scalar(select(User.id).where(User.username == username)) is not None:
        raise conflict(f"user {username!r} already exists")
    user = User(
        username=username,
        password_hash=_hasher.hash(password),
        role=role.value,
        display_name=display_name or username,
        email=email,
    )
    db.add(user)
    db.flush()
    return user


def list_users(db: Session) -> list[User]:
    return list(db.scalars(select(User).order_by(User.username)))


def set_user_active(db: Session, *, username: str, active: bool) -> User:
    user = db.scalar(select(User).where(User.username == username))
    if user is None:
        raise not_found(f"no user {username!r}")
    user.active = active
    if not active:
        db.execute(delete(WebSession).where(WebSession.user_id == user.id))
    return user


def authenticate(db: Session, *, username: str, password: str) -> User | None:
    user = db.scalar(select(User).where(User.username == username))
    try:
        if user is None or not user.active:
            _hasher.verify(_dummy_hash(), password + "x")
            return None
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return user


def create_token(db: Session, *, name: str, role: Role, created_by: str) -> tuple[ApiToken, str]:
    """Make a token; the clear value is returned once and only its hash is kept."""
    clear = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        name=name,
        role=role.value,
        token_hash=sha256_hex(clear),
        prefix=clear[:10],
        created_by=created_by,
    )
    db.add(token)
    db.flush()
    return token, clear


def list_tokens(db: Session) -> list[ApiToken]:
    return list(db.scalars(select(ApiToken).order_by(ApiToken.id)))


def revoke_token(db: Session, *, token_id: int) -> ApiToken:
    token = db.get(ApiToken, token_id)
    if token is None:
        raise not_found(f"no token with id {token_id}")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
    return token


def token_from_bearer(db: Session, clear: str) -> ApiToken | None:
    token = db.scalar(select(ApiToken).where(ApiToken.token_hash == sha256_hex(clear)))
    if token is None or token.revoked_at is not None:
        return None
    now = utcnow()
    # Write the last-use time at most once a minute so reads stay reads.
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        token.last_used_at = now
    return token


def open_session(db: Session, *, user: User, hours: int) -> tuple[WebSession, str]:
    clear = secrets.token_urlsafe(32)
    web_session = WebSession(
        session_hash=sha256_hex(clear),
        user_id=user.id,
        csrf_token=secrets.token_urlsafe(32),
        expires_at=utcnow() + timedelta(hours=hours),
    )
    db.add(web_session)
    db.flush()
    return web_session, clear


def session_user(db: Session, clear: str) -> tuple[WebSession, User] | None:
    row = db.execute(
        select(WebSession, User)
        .join(User, User.id == WebSession.user_id)
        .where(WebSession.session_hash == sha256_hex(clear))
    ).first()
    if row is None:
        return None
    web_session, user = row
    if web_session.expires_at <= utcnow() or not user.active:
        return None
    return web_session, user


def close_session(db: Session, clear: str) -> None:
    db.execute(delete(WebSession).where(WebSession.session_hash == sha256_hex(clear)))
