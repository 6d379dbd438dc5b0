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
from typing import Any

from sqlalchemy import bindparam, func, insert, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from firestop.db import table_of, take_write_lock, utcnow
from firestop.incidents.models import Incident, IncidentStatus
from firestop.ledger.models import Hold
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
    signal_id: int
    fingerprint: str
    created: bool
    escalated: bool
    routed: SignalRouteRule | None


@dataclass(slots=True)
class Raised:
    """What ``raise_hit`` gives back: the outcome with the signal itself, freshly loaded."""

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


def _link(db: Session, links: Sequence[tuple[int, dict[int, str | None]]], now: datetime) -> None:
    """Attach interactions to their signals (one statement for the whole batch)."""
    rows = [
        {"signal_id": signal_id, "interaction_id": i, "user_id": u, "seen_at": now}
        for signal_id, interactions in links
        for i, u in interactions.items()
    ]
    if not rows:
        return
    name = db.get_bind().dialect.name
    insert = postgresql.insert if name == "postgresql" else sqlite.insert
    db.execute(insert(table_of(SignalInteraction)).on_conflict_do_nothing(), rows)


def reach_of(
    db: Session, signal_ids: Sequence[int], *, since: datetime
) -> dict[int, tuple[int, int]]:
    """(occurrences, distinct affected users) since ``since``, for each signal.

    Alerts and metric findings have no interactions: their occurrences alone count.
    """
    if not signal_ids:
        return {}
    out: dict[int, tuple[int, int]] = {
        i: (n, 1)
        for i, n in db.execute(
            select(_SIGNALS.c.id, _SIGNALS.c.occurrences).where(_SIGNALS.c.id.in_(signal_ids))
        )
    }
    rows = db.execute(
        select(
            SignalInteraction.signal_id,
            func.count(),
            func.count(func.distinct(SignalInteraction.user_id)),
        )
        .where(
            SignalInteraction.signal_id.in_(signal_ids),
            SignalInteraction.seen_at >= since,
        )
        .group_by(SignalInteraction.signal_id)
    )
    for signal_id, count, users in rows:
        if count:
            out[signal_id] = (int(count), max(int(users), 1))
    return out


def matches(rule: RouteMatch, hit: Hit, severity: str | None, escalated: bool) -> bool:
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
    if rule.min_severity is not None and (
        severity is None or Sev(severity).rank > rule.min_severity.rank
    ):
        return False
    if rule.with_detectors and not (set(rule.with_detectors) & hit.co_detectors):
        return False
    return rule.escalated is None or rule.escalated == escalated


def choose_route(
    policy: Policy, hit: Hit, severity: str | None, escalated: bool
) -> SignalRouteRule | None:
    return next(
        (r for r in policy.detection.routes if matches(r.match, hit, severity, escalated)), None
    )


def _decide(
    policy: Policy, hit: Hit, values: dict[str, Any], now: datetime
) -> SignalRouteRule | None:
    """Route a signal that is still ``new``: set its route, or decide it as a near miss, in
    ``values`` (its columns). Returns the rule; the caller opens the incident for an incident
    route, because that needs the signal stored."""
    rule = choose_route(policy, hit, values["severity_hint"], values["escalated"])
    if rule is None or values["status"] != SignalStatus.new:
        return rule
    values["route_rule"] = rule.id
    snoozed = values["snoozed_until"] is not None and values["snoozed_until"] > now
    if rule.route == SignalRoute.near_miss and not (snoozed and not values["escalated"]):
        values["status"] = SignalStatus.near_miss.value
        values["decided_by"], values["decided_at"] = f"{POLICY_ACTOR}:{rule.id}", now
        values["decision_reason"] = rule.note or f"routed by policy rule {rule.id}"
    return rule


def _opens_incident(rule: SignalRouteRule | None, values: dict[str, Any], now: datetime) -> bool:
    if rule is None or rule.route != SignalRoute.incident or values["status"] != SignalStatus.new:
        return False
    snoozed = values["snoozed_until"] is not None and values["snoozed_until"] > now
    return values["escalated"] or not snoozed


def _open_incident(
    db: Session, policy: Policy, hit: Hit, signal_id: int, rule: SignalRouteRule
) -> None:
    """An incident opened at once: the same path a responder takes, done by the policy."""
    from firestop.ledger.service import hold
    from firestop.signals.service import accept_signal

    actor = f"{POLICY_ACTOR}:{rule.id}"
    categories = list(rule.categories) or ([hit.category] if hit.category else [])
    db.flush()
    signal = accept_signal(
        db,
        policy=policy,
        signal_id=signal_id,
        actor=actor,
        categories=categories,
        factors=rule.factors,
        note=rule.note or None,
    )
    if signal.incident_id is not None:
        linked = select(SignalInteraction.interaction_id).where(
            SignalInteraction.signal_id == signal_id
        )
        hold(db, incident_id=signal.incident_id, interaction_ids=db.scalars(linked), actor=actor)


_COLUMNS = (
    "source", "detector_id", "rule", "system_id", "title", "summary", "category_hint",
    "severity_hint", "fingerprint", "status", "created_at", "first_seen", "last_seen",
    "occurrences", "escalated", "route_rule", "snoozed_until", "snoozed_by", "snooze_reason",
    "decided_by", "decided_at", "decision_reason",
)  # fmt: skip


def _values_of(signal: Signal) -> dict[str, Any]:
    return {c: getattr(signal, c) for c in _COLUMNS}


def _route(
    db: Session, policy: Policy, hit: Hit, signal: Signal, now: datetime
) -> SignalRouteRule | None:
    """``_decide`` and, where the rule says so, the incident, for a signal as an object."""
    values = _values_of(signal)
    rule = _decide(policy, hit, values, now)
    for column in ("route_rule", "status", "decided_by", "decided_at", "decision_reason"):
        if getattr(signal, column) != values[column]:
            setattr(signal, column, values[column])
    if _opens_incident(rule, values, now):
        assert rule is not None
        _open_incident(db, policy, hit, signal.id, rule)
    return rule


_SIGNALS = table_of(Signal)


def _current(db: Session, fps: Sequence[str], since: datetime) -> dict[str, Any]:
    """The latest signal of each fingerprint seen since ``since`` (locked for update), as
    plain rows: most of a batch's hits only add to a signal, which needs no ORM object."""
    found: dict[str, Any] = {}
    rows = db.execute(
        select(
            _SIGNALS.c.id,
            _SIGNALS.c.fingerprint,
            _SIGNALS.c.occurrences,
            _SIGNALS.c.severity_hint,
            _SIGNALS.c.escalated,
        )
        .where(_SIGNALS.c.fingerprint.in_(fps), _SIGNALS.c.last_seen >= since)
        .order_by(_SIGNALS.c.id.desc())
        .with_for_update()
    )
    for row in rows:
        found.setdefault(row.fingerprint, row)
    return found


def _snoozes(db: Session, fps: Sequence[str], now: datetime) -> dict[str, Any]:
    """For each fingerprint still snoozed, the latest snooze (until, by, reason)."""
    found: dict[str, Any] = {}
    if fps:
        rows = db.execute(
            select(
                _SIGNALS.c.fingerprint,
                _SIGNALS.c.snoozed_until,
                _SIGNALS.c.snoozed_by,
                _SIGNALS.c.snooze_reason,
            )
            .where(_SIGNALS.c.fingerprint.in_(fps), _SIGNALS.c.snoozed_until > now)
            .order_by(_SIGNALS.c.id.desc())
        )
        for row in rows:
            found.setdefault(row.fingerprint, row)
    return found


def _new_values(hit: Hit, now: datetime, snoozed: Any) -> dict[str, Any]:
    """The columns of a new signal for ``hit``."""
    values = dict.fromkeys(_COLUMNS)
    values.update(
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
        escalated=False,
    )
    if snoozed is not None:
        # A new signal for a snoozed fingerprint stays quiet until the snooze ends.
        values["snoozed_until"] = snoozed.snoozed_until
        values["snoozed_by"], values["snooze_reason"] = snoozed.snoozed_by, snoozed.snooze_reason
    return values


def _escalated(values: dict[str, Any], occurrences: int, users: int, policy: Policy) -> None:
    """Mark a signal's columns as recurring at scale."""
    aggregation = policy.detection.aggregation
    values["escalated"] = True
    values["severity_hint"] = worse(values["severity_hint"], aggregation.escalate_to.value)
    values["summary"] = (
        f"{values['summary']}\n\nEscalated: {occurrences} occurrences affecting "
        f"{users} users within {aggregation.window_minutes} minutes."
    ).strip()[:4000]


def _own_reach(hit: Hit) -> tuple[int, int]:
    """A new signal's reach: its interactions are exactly this hit's (as ``reach_of`` counts)."""
    if not hit.interactions:
        return hit.occurrences, 1
    users = {u for u in hit.interactions.values() if u is not None}
    return len(hit.interactions), max(len(users), 1)


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


def raise_hit(db: Session, *, policy: Policy, hit: Hit, now: datetime | None = None) -> Raised:
    outcome = raise_hits(db, policy=policy, hits=[hit], now=now)[0]
    signal = db.get(Signal, outcome.signal_id, populate_existing=True)
    assert signal is not None  # written a moment ago in this transaction
    return Raised(signal, outcome.created, outcome.escalated, outcome.routed)


def raise_hits(
    db: Session, *, policy: Policy, hits: Iterable[Hit], now: datetime | None = None
) -> list[Outcome]:
    """Raise or update the signals of a batch of hits, with a fixed number of statements.

    A batch of detector findings carries a hundred or more distinct hits; each used to cost
    several round trips. Here every step runs once for the whole batch: lock, read the
    current signals, add to them (one UPDATE), insert the new ones already routed (one INSERT),
    link the interactions, count reach. Only what is rare — escalating a signal that exists,
    opening an incident — loads a signal and goes hit by hit.
    """
    now = now or utcnow()
    detection = policy.detection
    aggregation = detection.aggregation
    ordered = _merged(hits)
    if not ordered:
        return []
    db.flush()  # the statements below go around the ORM: nothing of it may be pending
    fps = [h.fingerprint for h in ordered]
    lock_fingerprints(db, fps)
    current = _current(db, fps, now - timedelta(minutes=detection.dedup_window_minutes))
    snoozes = _snoozes(db, [fp for fp in fps if fp not in current], now)

    # Existing signals: (hit, signal id, occurrences now, escalated already).
    repeated: list[tuple[Hit, int, int, bool]] = []
    updates: list[dict[str, Any]] = []
    # New signals: (hit, their columns, the route they took). A new signal's interactions are
    # exactly its hit's, so whether it escalates is known before it is stored.
    fresh: list[tuple[Hit, dict[str, Any], SignalRouteRule | None]] = []
    for hit in ordered:
        row = current.get(hit.fingerprint)
        if row is None:
            values = _new_values(hit, now, snoozes.get(hit.fingerprint))
            # Users are at most the occurrences, so below √threshold nothing can escalate.
            if hit.occurrences**2 >= aggregation.threshold:
                occurrences, users = _own_reach(hit)
                if occurrences * users >= aggregation.threshold:
                    _escalated(values, occurrences, users, policy)
            fresh.append((hit, values, _decide(policy, hit, values, now)))
            continue
        occurrences = row.occurrences + hit.occurrences
        updates.append(
            {
                "b_id": row.id,
                "b_occurrences": occurrences,
                "b_severity": worse(row.severity_hint, hit.severity),
                "b_seen": now,
            }
        )
        repeated.append((hit, row.id, occurrences, row.escalated))
    ids: dict[str, int] = {}
    if fresh:
        inserted = db.execute(
            insert(_SIGNALS).returning(_SIGNALS.c.id, _SIGNALS.c.fingerprint),
            [values for _, values, _ in fresh],
        )
        ids = {fp: signal_id for signal_id, fp in inserted}
    if updates:
        db.execute(
            update(_SIGNALS)
            .where(_SIGNALS.c.id == bindparam("b_id"))
            .values(
                occurrences=bindparam("b_occurrences"),
                severity_hint=bindparam("b_severity"),
                last_seen=bindparam("b_seen"),
            ),
            updates,
        )
    links = [(signal_id, hit.interactions) for hit, signal_id, _, _ in repeated]
    links += [(ids[hit.fingerprint], hit.interactions) for hit, _, _ in fresh]
    _link(db, links, now)
    _hold_for_open_incidents(db, [(hit, signal_id) for hit, signal_id, _, _ in repeated])

    outcomes: list[Outcome] = []
    for hit, values, rule in fresh:
        signal_id = ids[hit.fingerprint]
        if _opens_incident(rule, values, now):
            assert rule is not None
            _open_incident(db, policy, hit, signal_id, rule)
        outcomes.append(Outcome(signal_id, hit.fingerprint, True, values["escalated"], rule))

    candidates = [
        signal_id
        for _, signal_id, occurrences, escalated in repeated
        if not escalated and occurrences**2 >= aggregation.threshold
    ]
    since = now - timedelta(minutes=aggregation.window_minutes)
    reaches = reach_of(db, candidates, since=since)
    for hit, signal_id, _, _ in repeated:
        measured = reaches.get(signal_id)
        if measured is None or measured[0] * measured[1] < aggregation.threshold:
            outcomes.append(Outcome(signal_id, hit.fingerprint, False, False, None))
            continue
        loaded = db.get(Signal, signal_id, populate_existing=True)
        assert loaded is not None  # locked above
        signal, created = _escalate(db, hit, loaded, measured, policy, now)
        routed = _route(db, policy, hit, signal, now)
        outcomes.append(Outcome(signal.id, hit.fingerprint, created, True, routed))
    return outcomes


def _escalate(
    db: Session,
    hit: Hit,
    signal: Signal,
    measured: tuple[int, int],
    policy: Policy,
    now: datetime,
) -> tuple[Signal, bool]:
    """Mark a stored signal that recurs at scale; returns the signal to route and whether it
    is new."""
    occurrences, users = measured
    if signal.status in (SignalStatus.dismissed, SignalStatus.near_miss):
        # Decided as harmless, and now it is everywhere: ask again, as a new signal.
        snoozed = _snoozes(db, [hit.fingerprint], now).get(hit.fingerprint)
        values = _new_values(hit, now, snoozed)
        values["occurrences"] = occurrences
        _escalated(values, occurrences, users, policy)
        again = Signal(**values)
        db.add(again)
        db.flush()
        _link(db, [(again.id, hit.interactions)], now)
        return again, True
    values = _values_of(signal)
    _escalated(values, occurrences, users, policy)
    signal.escalated = values["escalated"]
    signal.severity_hint, signal.summary = values["severity_hint"], values["summary"]
    return signal, False


def _hold_for_open_incidents(db: Session, pairs: Sequence[tuple[Hit, int]]) -> None:
    """Interactions of a signal that already became an open incident are held by it.

    Two statements for the whole batch: which of the signals belong to an open incident, then
    one INSERT of the holds (a hold that exists already is left as it is).
    """
    with_interactions = {signal_id: hit for hit, signal_id in pairs if hit.interactions}
    if not with_interactions:
        return
    incidents = table_of(Incident)
    linked = db.execute(
        select(_SIGNALS.c.id, _SIGNALS.c.incident_id)
        .join(incidents, incidents.c.id == _SIGNALS.c.incident_id)
        .where(
            _SIGNALS.c.id.in_(list(with_interactions)),
            incidents.c.status != IncidentStatus.closed.value,
        )
    )
    rows = {
        (interaction_id, incident_id)
        for signal_id, incident_id in linked
        for interaction_id in with_interactions[signal_id].interactions
    }
    if not rows:
        return
    name = db.get_bind().dialect.name
    insert = postgresql.insert if name == "postgresql" else sqlite.insert
    db.execute(
        insert(table_of(Hold)).on_conflict_do_nothing(),
        [
            {"interaction_id": i, "incident_id": incident_id, "held_by": POLICY_ACTOR}
            for i, incident_id in sorted(rows)
        ],
    )
