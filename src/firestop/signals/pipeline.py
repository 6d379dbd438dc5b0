"""From detector hits and alerts to signals: deduplicate, snooze, aggregate, route (D4).

A *hit* is one problem seen in a batch: a detector rule on a system, with the interactions
where it was seen. Its fingerprint says which earlier signal it repeats. Within the policy's
dedup window a repeat only adds occurrences and interactions to the signal that is already
there; after it, a new signal opens (still snoozed if its fingerprint was snoozed).

Aggregation: occurrences × distinct affected users of a signal over the aggregation window is
its *reach*. Crossing the threshold escalates the signal once — its severity hint rises
and routing runs again — so a small error repeated at scale is not left as noise. A signal
that had been dismissed comes back as a new, escalated signal.

Routing: the first policy route whose conditions hold decides between the triage queue, an
incident opened at once (with its rubric factors and the interactions held as evidence), and
the near-miss log.
"""

from __future__ import annotations

import fnmatch
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from firestop.db import take_write_lock, utcnow
from firestop.incidents.models import Incident
from firestop.policy.schemas import Policy, RouteMatch, Sev, SignalRoute, SignalRouteRule
from firestop.signals.models import Signal, SignalInteraction, SignalSource, SignalStatus

POLICY_ACTOR = "policy"


@dataclass(slots=True)
class Hit:
    source: SignalSource
    title: str
    fingerprint: str
    detector: str | None = None
    rule: str | None = None
    system_id: int | None = None
    system_slug: str | None = None
    criticality: str | None = None
    summary: str = ""
    category: str | None = None
    severity: str | None = None
    occurrences: int = 1
    # interaction id → the user it concerned (for the affected population)
    interactions: dict[int, str | None] = field(default_factory=dict)
    # Detectors that fired on any of these interactions (for "secret together with
    # unapproved_model" routes).
    co_detectors: set[str] = field(default_factory=set)


def fingerprint_of(source: SignalSource, *parts: str | int | None) -> str:
    material = "\x1f".join([source.value, *("" if p is None else str(p) for p in parts)])
    return hashlib.sha256(material.encode("utf-8", "replace")).hexdigest()


@dataclass(slots=True)
class Outcome:
    signal: Signal
    created: bool
    escalated: bool
    routed: SignalRouteRule | None


def worse(a: str | None, b: str | None) -> str | None:
    """The more severe of two hints (SEV1 is worst)."""
    if a is None or b is None:
        return a or b
    return a if Sev(a).rank <= Sev(b).rank else b


def lock_fingerprint(db: Session, fp: str) -> None:
    """Serialise hits on one fingerprint across concurrent batches and nodes."""
    if db.get_bind().dialect.name == "postgresql":
        db.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": int(fp[:15], 16)})
    else:
        take_write_lock(db)


def _link(db: Session, signal: Signal, interactions: dict[int, str | None], now: datetime) -> None:
    if not interactions:
        return
    name = db.get_bind().dialect.name
    insert = postgresql.insert if name == "postgresql" else sqlite.insert
    db.execute(
        insert(SignalInteraction).on_conflict_do_nothing(),
        [
            {"signal_id": signal.id, "interaction_id": i, "user_id": u, "seen_at": now}
            for i, u in interactions.items()
        ],
    )


def reach(db: Session, signal: Signal, *, since: datetime) -> tuple[int, int]:
    """(occurrences, distinct affected users) of the signal since ``since``."""
    count, users = db.execute(
        select(func.count(), func.count(func.distinct(SignalInteraction.user_id))).where(
            SignalInteraction.signal_id == signal.id, SignalInteraction.seen_at >= since
        )
    ).one()
    if count == 0:  # alerts and metric findings have no interactions: occurrences only
        return signal.occurrences, 1
    return int(count), max(int(users), 1)


def matches(rule: RouteMatch, hit: Hit, signal: Signal) -> bool:
    if rule.detectors and hit.detector not in rule.detectors:
        return False
    if rule.rules and not any(
        fnmatch.fnmatchcase(hit.rule or "", pattern) for pattern in rule.rules
    ):
        return False
    if rule.systems and hit.system_slug not in rule.systems:
        return False
    if rule.criticality and hit.criticality not in rule.criticality:
        return False
    if rule.min_severity is not None:
        hint = signal.severity_hint
        if hint is None or Sev(hint).rank > rule.min_severity.rank:
            return False
    if rule.with_detectors and not (set(rule.with_detectors) & hit.co_detectors):
        return False
    return rule.escalated is None or rule.escalated == signal.escalated


def choose_route(policy: Policy, hit: Hit, signal: Signal) -> SignalRouteRule | None:
    return next((r for r in policy.detection.routes if matches(r.match, hit, signal)), None)


def _route(
    db: Session, policy: Policy, hit: Hit, signal: Signal, now: datetime
) -> SignalRouteRule | None:
    rule = choose_route(policy, hit, signal)
    if rule is None or signal.status != SignalStatus.new:
        return rule
    signal.route_rule = rule.id
    snoozed = signal.snoozed_until is not None and signal.snoozed_until > now
    if rule.route == SignalRoute.triage or (snoozed and not signal.escalated):
        return rule
    actor = f"{POLICY_ACTOR}:{rule.id}"
    if rule.route == SignalRoute.near_miss:
        signal.status = SignalStatus.near_miss.value
        signal.decided_by, signal.decided_at = actor, now
        signal.decision_reason = rule.note or f"routed by policy rule {rule.id}"
        return rule
    # Open an incident at once: the same path a responder takes, done by the policy.
    from firestop.ledger.service import hold
    from firestop.signals.service import accept_signal

    categories = list(rule.categories) or ([hit.category] if hit.category else [])
    db.flush()
    accept_signal(
        db,
        policy=policy,
        signal_id=signal.id,
        actor=actor,
        categories=categories,
        factors=rule.factors,
        note=rule.note or None,
    )
    if signal.incident_id is not None:
        linked = select(SignalInteraction.interaction_id).where(
            SignalInteraction.signal_id == signal.id
        )
        hold(db, incident_id=signal.incident_id, interaction_ids=db.scalars(linked), actor=actor)
    return rule


def _current(db: Session, fp: str, since: datetime) -> Signal | None:
    return db.scalar(
        select(Signal)
        .where(Signal.fingerprint == fp, Signal.last_seen >= since)
        .order_by(Signal.id.desc())
        .limit(1)
        .with_for_update()
    )


def _snooze_of(db: Session, fp: str, now: datetime) -> Signal | None:
    return db.scalar(
        select(Signal)
        .where(Signal.fingerprint == fp, Signal.snoozed_until > now)
        .order_by(Signal.id.desc())
        .limit(1)
    )


def _new_signal(db: Session, hit: Hit, now: datetime, *, escalated: bool = False) -> Signal:
    signal = Signal(
        source=hit.source.value,
        detector_id=hit.detector,
        rule=hit.rule,
        system_id=hit.system_id,
        title=hit.title[:200],
        summary=hit.summary,
        category_hint=hit.category,
        severity_hint=hit.severity,
        fingerprint=hit.fingerprint,
        status=SignalStatus.new.value,
        created_at=now,
        first_seen=now,
        last_seen=now,
        occurrences=hit.occurrences,
        escalated=escalated,
    )
    snoozed = _snooze_of(db, hit.fingerprint, now)
    if snoozed is not None:
        signal.snoozed_until = snoozed.snoozed_until
        signal.snoozed_by, signal.snooze_reason = snoozed.snoozed_by, snoozed.snooze_reason
    db.add(signal)
    db.flush()
    return signal


def raise_hit(db: Session, *, policy: Policy, hit: Hit, now: datetime | None = None) -> Outcome:
    now = now or utcnow()
    detection = policy.detection
    lock_fingerprint(db, hit.fingerprint)
    signal = _current(db, hit.fingerprint, now - timedelta(minutes=detection.dedup_window_minutes))
    created = signal is None
    if signal is None:
        signal = _new_signal(db, hit, now)
    else:
        signal.occurrences += hit.occurrences
        signal.last_seen = now
        signal.severity_hint = worse(signal.severity_hint, hit.severity)
    _link(db, signal, hit.interactions, now)
    incident = db.get(Incident, signal.incident_id) if signal.incident_id else None
    if incident is not None and incident.is_open and hit.interactions:
        from firestop.ledger.service import hold

        hold(db, incident_id=incident.id, interaction_ids=hit.interactions, actor=POLICY_ACTOR)

    escalated = False
    aggregation = detection.aggregation
    # Users are at most the occurrences, so below √threshold occurrences nothing can escalate
    # and the count is not worth a query.
    if not signal.escalated and signal.occurrences**2 >= aggregation.threshold:
        occurrences, users = reach(
            db, signal, since=now - timedelta(minutes=aggregation.window_minutes)
        )
        if occurrences * users >= aggregation.threshold:
            escalated = True
            if signal.status in (SignalStatus.dismissed, SignalStatus.near_miss):
                # Decided as harmless, and now it is everywhere: ask again, as a new signal.
                signal = _new_signal(db, hit, now, escalated=True)
                signal.occurrences = occurrences
                _link(db, signal, hit.interactions, now)
                created = True
            signal.escalated = True
            signal.severity_hint = worse(signal.severity_hint, aggregation.escalate_to.value)
            signal.summary = (
                f"{signal.summary}\n\nEscalated: {occurrences} occurrences affecting "
                f"{users} users within {aggregation.window_minutes} minutes."
            ).strip()[:4000]
    routed = _route(db, policy, hit, signal, now) if created or escalated else None
    return Outcome(signal, created, escalated, routed)


def raise_hits(
    db: Session, *, policy: Policy, hits: Iterable[Hit], now: datetime | None = None
) -> list[Outcome]:
    # A fixed order of fingerprints: two batches never wait on each other's locks in a cycle.
    ordered: Sequence[Hit] = sorted(hits, key=lambda h: h.fingerprint)
    return [raise_hit(db, policy=policy, hit=h, now=now) for h in ordered]
