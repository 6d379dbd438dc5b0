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

from firestop.db import table_of, take_write_lock, utcnow
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
    lock_fingerprints(db, [fp])


def lock_fingerprints(db: Session, fps: Iterable[str]) -> None:
    """``lock_fingerprint`` for a whole batch in one statement.

    The locks are taken in ascending key order, so two batches that share some fingerprints
    never wait on each other in a cycle. SQLite has one write lock for everything.
    """
    keys = sorted({int(fp[:15], 16) for fp in fps})
    if not keys:
        return
    if db.get_bind().dialect.name == "postgresql":
        db.execute(
            text(
                "SELECT pg_advisory_xact_lock(k) FROM "
                "(SELECT unnest(CAST(:keys AS bigint[])) AS k ORDER BY 1) AS ordered"
            ),
            {"keys": keys},
        )
    else:
        take_write_lock(db)


def _link(
    db: Session, links: Sequence[tuple[Signal, dict[int, str | None]]], now: datetime
) -> None:
    """Attach interactions to their signals (one statement for the whole batch)."""
    rows = [
        {"signal_id": signal.id, "interaction_id": i, "user_id": u, "seen_at": now}
        for signal, interactions in links
        for i, u in interactions.items()
    ]
    if not rows:
        return
    name = db.get_bind().dialect.name
    insert = postgresql.insert if name == "postgresql" else sqlite.insert
    db.execute(insert(table_of(SignalInteraction)).on_conflict_do_nothing(), rows)


def reach_of(
    db: Session, signals: Sequence[Signal], *, since: datetime
) -> dict[int, tuple[int, int]]:
    """(occurrences, distinct affected users) since ``since``, for each signal.

    Alerts and metric findings have no interactions: their occurrences alone count.
    """
    out = {s.id: (s.occurrences, 1) for s in signals}
    if not signals:
        return out
    rows = db.execute(
        select(
            SignalInteraction.signal_id,
            func.count(),
            func.count(func.distinct(SignalInteraction.user_id)),
        )
        .where(
            SignalInteraction.signal_id.in_(list(out)),
            SignalInteraction.seen_at >= since,
        )
        .group_by(SignalInteraction.signal_id)
    )
    for signal_id, count, users in rows:
        if count:
            out[signal_id] = (int(count), max(int(users), 1))
    return out


def reach(db: Session, signal: Signal, *, since: datetime) -> tuple[int, int]:
    """(occurrences, distinct affected users) of the signal since ``since``."""
    return reach_of(db, [signal], since=since)[signal.id]


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


def _current(db: Session, fps: Sequence[str], since: datetime) -> dict[str, Signal]:
    """The latest signal of each fingerprint seen since ``since`` (locked for update)."""
    found: dict[str, Signal] = {}
    rows = db.scalars(
        select(Signal)
        .where(Signal.fingerprint.in_(fps), Signal.last_seen >= since)
        .order_by(Signal.id.desc())
        .with_for_update()
    )
    for signal in rows:
        found.setdefault(signal.fingerprint, signal)
    return found


def _snoozes(db: Session, fps: Sequence[str], now: datetime) -> dict[str, Signal]:
    """For each fingerprint still snoozed, the signal that carries the latest snooze."""
    found: dict[str, Signal] = {}
    if fps:
        rows = db.scalars(
            select(Signal)
            .where(Signal.fingerprint.in_(fps), Signal.snoozed_until > now)
            .order_by(Signal.id.desc())
        )
        for signal in rows:
            found.setdefault(signal.fingerprint, signal)
    return found


def _new_signal(
    hit: Hit, now: datetime, snoozed: Signal | None, *, escalated: bool = False
) -> Signal:
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
    if snoozed is not None:
        # A new signal for a snoozed fingerprint stays quiet until the snooze ends.
        signal.snoozed_until = snoozed.snoozed_until
        signal.snoozed_by, signal.snooze_reason = snoozed.snoozed_by, snoozed.snooze_reason
    return signal


def _merged(hits: Iterable[Hit]) -> list[Hit]:
    """One hit per fingerprint (the same problem twice in one call is one problem)."""
    by_fp: dict[str, Hit] = {}
    for hit in hits:
        seen = by_fp.get(hit.fingerprint)
        if seen is None:
            by_fp[hit.fingerprint] = hit
            continue
        seen.occurrences += hit.occurrences
        seen.interactions.update(hit.interactions)
        seen.co_detectors |= hit.co_detectors
        seen.severity = worse(seen.severity, hit.severity)
    return [by_fp[fp] for fp in sorted(by_fp)]


def raise_hit(db: Session, *, policy: Policy, hit: Hit, now: datetime | None = None) -> Outcome:
    return raise_hits(db, policy=policy, hits=[hit], now=now)[0]


def raise_hits(
    db: Session, *, policy: Policy, hits: Iterable[Hit], now: datetime | None = None
) -> list[Outcome]:
    """Raise or update the signals of a batch of hits, with a fixed number of statements.

    A batch of detector findings carries a hundred or more distinct hits; each used to cost
    several round trips. Here every step runs once for the whole batch: lock, read the
    current signals, insert the new ones, link the interactions, count reach. Only what is
    rare — escalation of a dismissed signal, opening an incident — goes hit by hit.
    """
    now = now or utcnow()
    detection = policy.detection
    aggregation = detection.aggregation
    ordered = _merged(hits)
    if not ordered:
        return []
    fps = [h.fingerprint for h in ordered]
    lock_fingerprints(db, fps)
    current = _current(db, fps, now - timedelta(minutes=detection.dedup_window_minutes))
    snoozes = _snoozes(db, [fp for fp in fps if fp not in current], now)

    pairs: list[tuple[Hit, Signal, bool]] = []
    for hit in ordered:
        signal = current.get(hit.fingerprint)
        if signal is None:
            signal = _new_signal(hit, now, snoozes.get(hit.fingerprint))
            db.add(signal)
            pairs.append((hit, signal, True))
        else:
            signal.occurrences += hit.occurrences
            signal.last_seen = now
            signal.severity_hint = worse(signal.severity_hint, hit.severity)
            pairs.append((hit, signal, False))
    db.flush()  # ids for the new signals
    _link(db, [(signal, hit.interactions) for hit, signal, _ in pairs], now)
    _hold_for_open_incidents(db, pairs)

    # Users are at most the occurrences, so below √threshold occurrences nothing can escalate
    # and the count is not worth a query.
    candidates = [
        s for _, s, _ in pairs if not s.escalated and s.occurrences**2 >= aggregation.threshold
    ]
    reaches = reach_of(db, candidates, since=now - timedelta(minutes=aggregation.window_minutes))

    outcomes: list[Outcome] = []
    for hit, signal, created in pairs:
        escalated = False
        measured = reaches.get(signal.id) if not signal.escalated else None
        if measured is not None and measured[0] * measured[1] >= aggregation.threshold:
            escalated = True
            occurrences, users = measured
            if signal.status in (SignalStatus.dismissed, SignalStatus.near_miss):
                # Decided as harmless, and now it is everywhere: ask again, as a new signal.
                snoozed = _snoozes(db, [hit.fingerprint], now).get(hit.fingerprint)
                signal = _new_signal(hit, now, snoozed, escalated=True)
                signal.occurrences = occurrences
                db.add(signal)
                db.flush()
                _link(db, [(signal, hit.interactions)], now)
                created = True
            signal.escalated = True
            signal.severity_hint = worse(signal.severity_hint, aggregation.escalate_to.value)
            signal.summary = (
                f"{signal.summary}\n\nEscalated: {occurrences} occurrences affecting "
                f"{users} users within {aggregation.window_minutes} minutes."
            ).strip()[:4000]
        routed = _route(db, policy, hit, signal, now) if created or escalated else None
        outcomes.append(Outcome(signal, created, escalated, routed))
    return outcomes


def _hold_for_open_incidents(db: Session, pairs: Sequence[tuple[Hit, Signal, bool]]) -> None:
    """Interactions of a signal that already became an open incident are held by it."""
    wanted: dict[int, dict[int, str | None]] = {}
    for hit, signal, _ in pairs:
        if signal.incident_id is not None and hit.interactions:
            wanted.setdefault(signal.incident_id, {}).update(hit.interactions)
    if not wanted:
        return
    from firestop.ledger.service import hold

    for incident in db.scalars(select(Incident).where(Incident.id.in_(list(wanted)))):
        if incident.is_open:
            hold(
                db, incident_id=incident.id, interaction_ids=wanted[incident.id], actor=POLICY_ACTOR
            )
