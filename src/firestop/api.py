"""The ASGI application: one FastAPI app carrying the API, the pages and health."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from sqlalchemy import text

from firestop import __version__, problems
from firestop.access.routes import router as access_router
from firestop.auth import Reader
from firestop.config import Settings, get_settings
from firestop.db import make_engine, make_sessionmaker
from firestop.deps import DB, ensure_pipeline
from firestop.detect.routes import router as detect_router
from firestop.gctune import tune_for_server
from firestop.incidents.routes import router as incidents_router
from firestop.inventory.routes import router as inventory_router
from firestop.ledger import maintenance
from firestop.ledger.routes import otlp_router
from firestop.ledger.routes import router as ledger_router
from firestop.policy.routes import router as policy_router
from firestop.policy.service import load_policy
from firestop.ratelimit import SlidingWindowLimiter
from firestop.signals.routes import router as signals_router
from firestop.web.routes import install as install_web


def _warm(app: FastAPI) -> None:
    ensure_pipeline(app)
    if app.state.settings.tune_gc:
        tune_for_server()


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    # Compile the detectors' patterns now rather than in the first ingest request.
    threading.Thread(target=_warm, args=(app,), daemon=True).start()
    task = None
    if settings.maintenance_interval > 0:
        task = asyncio.create_task(
            maintenance.loop(app.state.sessionmaker, settings.maintenance_interval, 60.0)
        )
    yield
    if task is not None:
        task.cancel()


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    app = FastAPI(
        lifespan=lifespan,
        title="Firestop",
        version=__version__,
        description="Incident response for AI systems.",
        # The document is served below, behind a credential like every other route; the
        # interactive docs are left out because they load their assets from a CDN.
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
    )
    engine = make_engine(settings.sqlalchemy_url)
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessionmaker = make_sessionmaker(engine)
    app.state.policy = load_policy(settings.policy)
    # Compiled detector patterns and cached system configs, shared by every ingest request;
    # built at the first request that needs them.
    app.state.pipeline = None
    # One limiter for every way in to public intake (the API and the /report page).
    app.state.report_limiter = SlidingWindowLimiter(settings.report_rate_per_minute, 60.0)
    # Password guessing is slowed per client address, on top of argon2's cost.
    app.state.login_limiter = SlidingWindowLimiter(settings.login_attempts_per_minute, 60.0)

    problems.install(app)
    for router in (
        access_router,
        policy_router,
        inventory_router,
        signals_router,
        incidents_router,
        ledger_router,
        otlp_router,
        detect_router,
    ):
        app.include_router(router)
    install_web(app)

    @app.get("/openapi.json", include_in_schema=False)
    def openapi_document(_: Reader) -> dict[str, Any]:
        return app.openapi()

    @app.get("/healthz", tags=["health"])
    def health(db: DB) -> dict[str, str]:
        db.execute(text("SELECT 1"))
        # Ingest waits while the detectors' patterns compile (seconds, on a first start).
        detectors = "ready" if app.state.pipeline is not None else "starting"
        return {"status": "ok", "version": __version__, "detectors": detectors}

    return app
