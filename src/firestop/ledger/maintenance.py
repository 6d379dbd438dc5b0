"""Housekeeping the ledger needs without anyone asking: retention and stale OTLP fragments.

Every server process runs it; both steps are idempotent, so several nodes doing the same work
at about the same time only cost a little duplicated effort.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from firestop.db import unit_of_work
from firestop.ledger.service import RetentionResult, apply_retention, forget_pending

log = logging.getLogger(__name__)
# Log events and tool spans wait this long for the span they belong to.
PENDING_TTL = timedelta(hours=24)


def run_once(factory: sessionmaker[Session]) -> RetentionResult:
    with unit_of_work(factory) as db:
        result = apply_retention(db)
        forget_pending(db, older_than=PENDING_TTL)
    if result.dropped or result.hashed:
        log.info(
            "retention: %d interactions hashed, %d dropped, %d kept for incidents",
            result.hashed,
            result.dropped,
            result.kept_for_incidents,
        )
    return result


async def loop(factory: sessionmaker[Session], interval: float, first_delay: float) -> None:
    await asyncio.sleep(first_delay)
    while True:
        try:
            await run_in_threadpool(run_once, factory)
        except Exception:  # the next round tries again; a failure must not end the loop
            log.exception("ledger maintenance failed")
        await asyncio.sleep(interval)
