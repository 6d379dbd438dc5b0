"""FastAPI dependencies shared by every area: the database session, settings and policy."""

from __future__ import annotations

import asyncio
import threading
import weakref
from collections.abc import Iterator
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, Path, Request
from sqlalchemy.orm import Session

from firestop.config import Settings

if TYPE_CHECKING:
    from firestop.detect.pipeline import Pipeline
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


_pipeline_lock = threading.Lock()


def ensure_pipeline(app: Any) -> Pipeline:
    """The app's ingest pipeline, built once (compiling the detectors' patterns) when first
    needed; the server starts building it in the background as soon as it starts."""
    state = app.state
    with _pipeline_lock:
        if state.pipeline is None:
            from firestop.detect.pipeline import Pipeline

            state.pipeline = Pipeline(state.policy)
        pipeline: Pipeline = state.pipeline
    return pipeline


def get_pipeline(request: Request) -> Pipeline:
    return ensure_pipeline(request.app)


CurrentPipeline = Annotated["Pipeline", Depends(get_pipeline)]


def ingest_slots(app: Any) -> asyncio.Semaphore:
    """How many telemetry batches this process works on at once (``ingest_concurrency``).

    Waiters are served in the order they reach it, so a batch's time to its answer is its
    queueing plus its own work, not a share of everyone's. One semaphore per event loop:
    a server has one, tests may run several clients of one application.
    """
    loop = asyncio.get_running_loop()
    with _pipeline_lock:
        per_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] | None
        per_loop = getattr(app.state, "ingest_slots", None)
        if per_loop is None:
            per_loop = app.state.ingest_slots = weakref.WeakKeyDictionary()
        slots = per_loop.get(loop)
        if slots is None:
            slots = per_loop[loop] = asyncio.Semaphore(app.state.settings.ingest_concurrency)
    return slots
