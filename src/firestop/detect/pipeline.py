"""Ingest end to end: validate → content detectors → durable ledger → stream detectors → signals.

It all happens in the caller's transaction, so when the caller commits, the interactions,
their findings and the signals they raised are stored together, and when anything fails
nothing is half-stored. Detection runs before storage because a system whose content policy
is "redacted" or "hashed" must never have its raw text written, and detection needs it.
"""

from __future__ import annotations

import importlib
import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import TypeAdapter, ValidationError
from sqlalchemy import insert
from sqlalchemy.orm import Session

from firestop.db import table_of, utcnow
from firestop.detect.base import ContentDetector, Finding, Observed, StreamDetector, SystemConfig
from firestop.detect.config import ConfigCache
from firestop.detect.engine import ContentEngine
from firestop.detect.models import FindingRow
from firestop.errors import validation_errors
from firestop.ledger import service as ledger
from firestop.ledger.body import JSON_TYPES, parse_records
from firestop.ledger.schemas import IngestResult, InteractionIn, RejectedRecord
from firestop.policy.schemas import Policy
from firestop.signals.models import SignalSource
from firestop.signals.pipeline import Hit, fingerprint_of, raise_hits
from firestop.writers import writer_turn

CONTENT_MODULES = (
    "pii",
    "secret",
    "unapproved_model",
    "prompt_injection",
    "tool_misuse",
    "ungrounded_citation",
    "moderation",
    "policy_terms",
)

_record = TypeAdapter(InteractionIn)
_records = TypeAdapter(list[InteractionIn])


def default_content_detectors() -> list[ContentDetector]:
    modules = [importlib.import_module(f"firestop.detect.{name}") for name in CONTENT_MODULES]
    return [module.DETECTOR for module in modules]


def default_stream_detectors() -> list[StreamDetector]:
    from firestop.detect.streams import STREAM_DETECTORS

    return list(STREAM_DETECTORS)


class Pipeline:
    """What ingest needs, built once per process: compiled patterns, cached system configs."""

    def __init__(
        self,
        policy: Policy,
        *,
        content: Sequence[ContentDetector] | None = None,
        streams: Sequence[StreamDetector] | None = None,
        engine: str = "auto",
    ) -> None:
        self.policy = policy
        self.configs = ConfigCache(policy)
        self.content = ContentEngine(
            default_content_detectors() if content is None else content, engine=engine
        )
        self.streams = list(default_stream_detectors() if streams is None else streams)


@dataclass(slots=True)
class Validated:
    records: list[tuple[int, InteractionIn]]
    rejected: list[RejectedRecord]


def validate(items: Sequence[Any]) -> Validated:
    """Each item on its own: one bad record is reported by index and the rest go on."""
    records: list[tuple[int, InteractionIn]] = []
    rejected: list[RejectedRecord] = []
    for index, item in enumerate(items):
        if isinstance(item, RejectedRecord):  # unreadable already (a bad NDJSON line)
            rejected.append(item)
            continue
        try:
            records.append((index, _record.validate_python(item)))
        except ValidationError as exc:
            client_id = item.get("id") if isinstance(item, dict) else None
            rejected.append(
                RejectedRecord(
                    index=index,
                    id=client_id if isinstance(client_id, str) else None,
                    errors=[e.as_dict() for e in validation_errors(exc)],
                )
            )
    return Validated(records, rejected)


def _finite(record: InteractionIn) -> bool:
    """No NaN or infinity in any float field: JSON has neither (a parser that reads ``NaN`` or
    ``1e400`` is being lenient), and the strict path refuses such a body."""
    floats: list[Any] = [*record.parameters.values(), *record.attributes.values()]
    floats += [d.score for d in record.retrieval] + [m.score for m in record.moderation]
    floats += [f.value for f in record.feedback]
    return all(type(v) is not float or math.isfinite(v) for v in floats)


def read_records(body: bytes, media: str) -> Sequence[Any] | Validated:
    """A request body's records, validated straight from the JSON text when they all are valid.

    Parsing into Python objects and then validating them costs about twice as much as letting
    pydantic validate the JSON text itself, and nearly every batch is wholly valid. Any
    failure, or a value that the strict JSON parser would refuse, sends the body down the
    record-by-record path (``parse_records`` then ``validate``), which reports each bad record
    by its index and keeps the rest, so the answer is exactly what it would have been.
    """
    if media in JSON_TYPES and body.lstrip()[:1] == b"[":
        try:
            records = _records.validate_json(body)
        except ValidationError:
            pass
        else:
            if all(_finite(r) for r in records):
                return Validated(list(enumerate(records)), [])
    return parse_records(body, media)


def _each(ids: list[int]) -> list[int | None]:
    """A finding's interactions, or one ``None`` for a finding that has none."""
    return list(ids) if ids else [None]


def _finding_rows(findings: Sequence[Finding], now: datetime) -> list[dict[str, Any]]:
    rows = []
    for f in findings:
        for interaction_id in _each(f.interaction_ids):
            rows.append(
                {
                    "interaction_id": interaction_id,
                    "system_id": f.system_id,
                    "detector": f.detector,
                    "rule": f.rule,
                    "title": f.title[:200],
                    "path": f.path,
                    "start": f.start,
                    "end": f.end,
                    "excerpt": f.excerpt[:1000],
                    "severity": f.severity,
                    "category": f.category,
                    "detail": f.detail,
                    "created_at": now,
                }
            )
    return rows


def _hits_by_key(
    findings: Sequence[Finding],
    configs: dict[int, SystemConfig],
    users: dict[int, str | None],
) -> dict[tuple[int | None, str, str, str], Hit]:
    """One hit per (system, detector, rule, group) in the batch, by that key."""
    fired: dict[int, set[str]] = defaultdict(set)
    for f in findings:
        for i in f.interaction_ids:
            fired[i].add(f.detector)
    hits: dict[tuple[int | None, str, str, str], Hit] = {}
    for f in findings:
        key = (f.system_id, f.detector, f.rule, f.group)
        hit = hits.get(key)
        if hit is None:
            config = configs.get(f.system_id) if f.system_id is not None else None
            slug = config.slug if config else None
            hit = hits[key] = Hit(
                source=SignalSource.detector,
                title=f"{f.title} ({slug})" if slug else f.title,
                fingerprint=fingerprint_of(SignalSource.detector, f.system_id, *key[1:]),
                detector=f.detector,
                rule=f.rule,
                system_id=f.system_id,
                system_slug=slug,
                criticality=config.criticality if config else None,
                summary=f.excerpt,
                category=f.category,
                severity=f.severity,
                occurrences=0,
            )
        hit.occurrences += max(len(f.interaction_ids), 1)
        for i in f.interaction_ids:
            hit.interactions[i] = users.get(i)
            hit.co_detectors |= fired[i] - {f.detector}
    return hits


def observe(
    detectors: Sequence[StreamDetector], db: Session, batch: Sequence[Observed], now: datetime
) -> list[Finding]:
    """Every stream detector over the stored batch; one that fails is logged and skipped."""
    from firestop.detect.streams import observe_all

    return observe_all(db, batch, now, detectors)


def ingest(
    db: Session,
    pipeline: Pipeline,
    items: Sequence[Any] | Validated,
    *,
    now: datetime | None = None,
) -> IngestResult:
    """Ingest raw items (dicts, or records already refused by the parser) or a batch that
    ``read_records`` validated already."""
    now = now or utcnow()
    checked = items if isinstance(items, Validated) else validate(items)
    rejected = list(checked.rejected)
    configs = pipeline.configs.get(db, {r.system for _, r in checked.records})
    known: list[tuple[int, InteractionIn, SystemConfig]] = []
    for index, record in checked.records:
        config = configs.get(record.system)
        if config is None:
            rejected.append(
                RejectedRecord(
                    index=index,
                    id=record.id,
                    errors=[
                        {
                            "loc": "system",
                            "msg": f"unknown system {record.system!r}; add it to the inventory",
                        }
                    ],
                )
            )
            continue
        known.append((index, record, config))
    found_all = pipeline.content.run_many([(record, config) for _, record, config in known])
    batch = [
        (index, record, config, found)
        for (index, record, config), found in zip(known, found_all, strict=True)
    ]
    # SQLite: queue for the one write lock once the rows are built, not in its busy handler.
    stored = ledger.store(db, batch, now=now, before_write=lambda: writer_turn(db))
    findings: list[Finding] = []
    observed: list[Observed] = []
    users: dict[int, str | None] = {}
    for item, (_, _, _, found) in zip(stored, batch, strict=True):
        if not item.new:
            continue  # already stored and detected when it first arrived
        users[item.interaction_id] = item.record.user_id
        observed.append(Observed(item.interaction_id, item.record, item.config))
        for f in found:
            f.interaction_ids, f.system_id = [item.interaction_id], item.config.id
            findings.append(f)
    if observed:
        findings += observe(pipeline.streams, db, observed, now)
    by_id = {c.id: c for c in configs.values() if c is not None}
    signals = deliver(db, pipeline, findings, users=users, configs=by_id, now=now)
    rejected.sort(key=lambda r: r.index)
    return IngestResult(
        accepted=len(stored),
        duplicates=sum(1 for s in stored if not s.new),
        rejected=rejected,
        signals=signals,
        partial=bool(rejected),
    )


def deliver(
    db: Session,
    pipeline: Pipeline,
    findings: Sequence[Finding],
    *,
    users: dict[int, str | None] | None = None,
    configs: dict[int, SystemConfig] | None = None,
    now: datetime | None = None,
) -> int:
    """Store findings and raise or update their signals; returns how many signals were touched."""
    if not findings:
        return 0
    now = now or utcnow()
    configs = dict(configs or {})
    for f in findings:
        if f.system_id is not None and f.system_id not in configs:
            config = pipeline.configs.by_id(db, f.system_id)
            if config is not None:
                configs[f.system_id] = config
    hits = _hits_by_key(findings, configs, users or {})
    outcomes = raise_hits(db, policy=pipeline.policy, hits=hits.values(), now=now)
    signal_of = {o.fingerprint: o.signal_id for o in outcomes}
    # Each hit is one (system, detector, rule, group): its fingerprint names its signal.
    signal_by_key = {key: signal_of.get(hit.fingerprint) for key, hit in hits.items()}
    rows = _finding_rows(findings, now)
    keyed = [
        signal_by_key[(f.system_id, f.detector, f.rule, f.group)]
        for f in findings
        for _ in _each(f.interaction_ids)
    ]
    for row, signal_id in zip(rows, keyed, strict=True):
        row["signal_id"] = signal_id
    db.execute(insert(table_of(FindingRow)), rows)
    return len(outcomes)
