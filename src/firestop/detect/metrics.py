"""Metric values posted by systems (technical or business), stored and watched for drift.

A business metric (loans approved, refunds issued, cases escalated to a person) often shows
harm that no single interaction does. Each value is stored as a ``MetricPoint`` and the
values of a request are fed, per system and name, to the drift detector as the series
``metric.<name>`` (see ``drift.py`` for its settings; ``metric_warmup`` applies).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import insert
from sqlalchemy.orm import Session

from firestop.detect.base import Finding
from firestop.detect.config import ConfigCache
from firestop.detect.drift import DriftDetector
from firestop.detect.models import MetricPoint
from firestop.detect.schemas import MetricIn

_drift = DriftDetector()


class UnknownSystems(ValueError):
    """Values named systems the inventory does not know; nothing was stored."""

    def __init__(self, slugs: Sequence[str]) -> None:
        self.slugs = list(slugs)
        super().__init__(f"unknown systems {', '.join(map(repr, self.slugs))}; add them first")


def record_metrics(
    db: Session, *, configs: ConfigCache, points: Sequence[MetricIn], now: datetime
) -> tuple[int, list[Finding]]:
    """Store the values and run drift detection over them; returns (stored, findings).

    All or nothing: a value for an unknown system raises ``UnknownSystems`` before anything
    is written, so a client can correct its request and send it again whole.
    """
    if not points:
        return 0, []
    found = configs.get(db, {p.system for p in points})
    unknown = sorted(slug for slug, config in found.items() if config is None)
    if unknown:
        raise UnknownSystems(unknown)
    known = {slug: config for slug, config in found.items() if config is not None}
    db.execute(
        insert(MetricPoint),
        [
            {
                "system_id": known[p.system].id,
                "name": p.name,
                "value": p.value,
                "at": p.at,
                "received_at": now,
            }
            for p in points
        ],
    )
    series: dict[str, dict[str, list[tuple[datetime, float]]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for p in points:
        series[p.system][p.name].append((p.at, p.value))
    findings: list[Finding] = []
    # System id order, as everywhere state is locked, so concurrent requests cannot deadlock.
    for slug in sorted(series, key=lambda s: known[s].id):
        config = known[slug]
        ordered = {
            name: [v for _, v in sorted(values, key=lambda tv: tv[0])]
            for name, values in series[slug].items()
        }
        findings += _drift.observe_metrics(db, config, ordered, now)
    return len(points), findings
