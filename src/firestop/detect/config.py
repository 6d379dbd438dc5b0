"""Each system's detector configuration, from the inventory and the policy, cached briefly.

Ingest needs it for every batch; reading the inventory each time would cost more than the
detectors. A cached entry lives a few seconds, so a change to the inventory reaches the
detectors of every node quickly without any cross-node messaging.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from firestop.detect.base import ModelRef, SystemConfig, ToolRef
from firestop.inventory.models import System
from firestop.policy.schemas import Policy


def build_config(system: System, policy: Policy) -> SystemConfig:
    settings: dict[str, dict[str, Any]] = {k: dict(v) for k, v in policy.detection.defaults.items()}
    for detector, own in (system.detectors or {}).items():
        if isinstance(own, Mapping):
            settings.setdefault(detector, {}).update(own)
    models = [ModelRef(m.name, m.provider, m.version) for m in system.models if m.approved]
    others = [ModelRef(m.name, m.provider, m.version) for m in system.models if not m.approved]
    return SystemConfig(
        id=system.id,
        slug=system.slug,
        criticality=system.criticality,
        content_mode=system.content_mode,
        approved_models=tuple(models),
        other_models=tuple(others),
        tools={t.name: ToolRef(t.name, t.kind, t.destructive) for t in system.tools},
        settings=settings,
    )


class ConfigCache:
    """System configs by slug, each kept for ``ttl`` seconds; safe to share between threads."""

    def __init__(self, policy: Policy, *, ttl: float = 5.0) -> None:
        self.policy = policy
        self.ttl = ttl
        self._lock = threading.Lock()
        self._entries: dict[str, tuple[float, SystemConfig | None]] = {}

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def get(self, db: Session, slugs: Iterable[str]) -> dict[str, SystemConfig | None]:
        """Configs for the slugs; ``None`` for a slug the inventory does not know."""
        now = time.monotonic()
        wanted = set(slugs)
        found: dict[str, SystemConfig | None] = {}
        with self._lock:
            for slug in wanted:
                entry = self._entries.get(slug)
                if entry is not None and now - entry[0] < self.ttl:
                    found[slug] = entry[1]
        missing = wanted - found.keys()
        if missing:
            systems = db.scalars(
                select(System)
                .where(System.slug.in_(missing))
                .options(selectinload(System.models), selectinload(System.tools))
            )
            loaded: dict[str, SystemConfig | None] = dict.fromkeys(missing)
            for system in systems:
                loaded[system.slug] = build_config(system, self.policy)
            with self._lock:
                for slug, config in loaded.items():
                    # An unknown slug is not remembered: a system added to the inventory a
                    # moment ago must be usable at once.
                    if config is not None:
                        self._entries[slug] = (now, config)
            found.update(loaded)
        return found

    def by_id(self, db: Session, system_id: int) -> SystemConfig | None:
        slug = db.scalar(select(System.slug).where(System.id == system_id))
        return None if slug is None else self.get(db, [slug])[slug]
