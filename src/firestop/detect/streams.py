"""The stream detectors, and running them all over a stored batch."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from firestop.detect.access_anomaly import AccessAnomalyDetector
from firestop.detect.base import Finding, Observed, StreamDetector
from firestop.detect.drift import DriftDetector
from firestop.detect.outcome_disparity import OutcomeDisparityDetector
from firestop.detect.stream_state import Grouped, StateStore
from firestop.detect.tool_rates import ToolRatesDetector
from firestop.detect.vendor_errors import VendorErrorsDetector

log = logging.getLogger(__name__)

DRIFT = DriftDetector()
STREAM_DETECTORS: tuple[StreamDetector, ...] = (
    DRIFT,
    OutcomeDisparityDetector(),
    VendorErrorsDetector(),
    AccessAnomalyDetector(),
    ToolRatesDetector(),
)


def observe_all(
    db: Session,
    batch: Sequence[Observed],
    now: datetime,
    detectors: Sequence[StreamDetector] = STREAM_DETECTORS,
) -> list[Finding]:
    """Every stream detector over the batch, with their state read and written in one go.

    A detector that fails (a bug, state it cannot handle) is logged and skipped: what it
    staged is dropped, and the batch, the other detectors' state and their findings stay.
    That needs detectors to keep state only through ``load_state`` and run no SQL of their
    own, which is what makes a savepoint per detector (two more statements each) unneeded.
    """
    if not batch:
        return []
    grouped = Grouped(batch)
    system_ids = [config.id for config, _ in grouped.groups]
    findings: list[Finding] = []
    with StateStore(db, [d.id for d in detectors], system_ids) as store:
        for detector in detectors:
            try:
                found = detector.observe(db, grouped, now)
                store.accept()
            except Exception:
                store.discard()
                log.exception("stream detector %s failed on a batch of %d", detector.id, len(batch))
                continue
            findings += found
        store.write(now)
    return findings
