"""Helpers for the signal tests: tiny detectors, a pipeline built on them, and ingest.

The real content detectors live in ``firestop.detect``; these tests are about what happens to
hits after detection, so they use detectors small enough to read at a glance.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI
from sqlalchemy.orm import Session

from firestop.detect.base import Finding, Match, Pattern, SystemConfig, TextField, redact
from firestop.detect.pipeline import Pipeline, ingest
from firestop.inventory.models import System
from firestop.ledger.schemas import IngestResult, InteractionIn
from firestop.policy.schemas import Policy
from firestop.policy.service import build_policy

T0 = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)


class EmailDetector:
    """An e-mail address anywhere: detector ``pii``, rule ``pii.email``."""

    id = "pii"

    def patterns(self) -> Sequence[Pattern]:
        return [Pattern("email", r"[A-Za-z0-9.+-]+@[A-Za-z0-9-]+\.[A-Za-z.]+")]

    def inspect(
        self,
        record: InteractionIn,
        fields: Sequence[TextField],
        matches: Sequence[Match],
        config: SystemConfig,
    ) -> list[Finding]:
        return [
            Finding(
                detector="pii",
                rule="pii.email",
                title="E-mail address",
                path=fields[m.field].path,
                start=m.start,
                end=m.end,
                excerpt=redact(fields[m.field].text, m.start, m.end, "pii.email"),
                severity="SEV3",
                category="confidentiality",
            )
            for m in matches
        ]


class ShadowModelDetector:
    """The literal ``shadow-gpt`` in a message: detector ``unapproved_model``."""

    id = "unapproved_model"

    def patterns(self) -> Sequence[Pattern]:
        return [Pattern("shadow", r"shadow-gpt")]

    def inspect(
        self,
        record: InteractionIn,
        fields: Sequence[TextField],
        matches: Sequence[Match],
        config: SystemConfig,
    ) -> list[Finding]:
        if not matches:
            return []
        return [
            Finding(
                detector="unapproved_model",
                rule="unapproved_model.unlisted",
                title="A model the inventory does not list",
                severity="SEV3",
                category="prohibited_use",
            )
        ]


def make_system(db: Session, slug: str = "bot", criticality: str = "high") -> System:
    system = System(slug=slug, name=slug.title(), criticality=criticality)
    db.add(system)
    db.commit()
    return system


def policy_with(detection: dict[str, Any]) -> Policy:
    return build_policy({"detection": detection})


def use_policy(app: FastAPI, policy: Policy | None = None) -> Pipeline:
    """Put ``policy`` (default: the app's) on the app with a pipeline of the tiny detectors."""
    policy = policy or app.state.policy
    app.state.policy = policy
    pipeline = Pipeline(policy, content=[EmailDetector(), ShadowModelDetector()], streams=[])
    app.state.pipeline = pipeline
    return pipeline


def record(
    client_id: str,
    text: str,
    *,
    system: str = "bot",
    user: str | None = "u1",
    started_at: datetime = T0,
) -> dict[str, Any]:
    return {
        "id": client_id,
        "system": system,
        "started_at": started_at.isoformat(),
        "user_id": user,
        "messages": [{"role": "user", "content": text}],
        "output": "noted",
    }


def run(
    db: Session, pipeline: Pipeline, records: Sequence[dict[str, Any]], *, now: datetime
) -> IngestResult:
    result = ingest(db, pipeline, list(records), now=now)
    db.commit()
    assert not result.rejected, result.rejected
    return result
