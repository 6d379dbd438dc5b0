"""FastAPI dependencies shared by every area: the database session, settings and policy."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, Path, Request
from sqlalchemy.orm import Session

from firestop.config import Settings

if TYPE_CHECKING:
    from firestop.policy.schemas import Policy


def get_db(request: Request) -> Iterator[Session]:
    """One session per request. Routes commit explicitly; anything uncommitted is rolled back."""
    session: Session = request.app.state.sessionmaker()
    try:
        yield session
    finally:
        session.rollback()
        session.close()


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_policy(request: Request) -> Policy:
    policy: Policy = request.app.state.policy
    return policy


DB = Annotated[Session, Depends(get_db)]
AppSettings = Annotated[Settings, Depends(get_settings)]
CurrentPolicy = Annotated["Policy", Depends(get_policy)]

# Row ids in URL paths are database integers; anything outside that range names nothing and
# is refused with a 422 before it reaches the database (where it would overflow).
RowId = Annotated[int, Path(ge=1, le=2**31 - 1)]
