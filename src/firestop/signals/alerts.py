"""Alerts from other tools — DLP, SIEM, a vendor's status page — as signals (D3, D4).

Each tool posts its own JSON; the policy's ``detection.alerts`` says, per tool, where in that
JSON the title, system, severity and the rest are (dotted paths, or literals after '='). An
alert becomes a hit like a detector's, so deduplication, snoozing, aggregation and routing
treat it the same way.

Alert bodies are hostile input like everything else that arrives from outside: bounded in
size, in nesting and in count, read only at the paths the policy names, and only text (or a
number) is taken from them. What cannot be used is said in the answer, never guessed at.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from firestop.db import utcnow
from firestop.errors import FieldError, FirestopError, invalid
from firestop.inventory.models import System
from firestop.policy.schemas import AlertSource, Policy, Sev
from firestop.signals.models import SignalSource, SignalStatus
from firestop.signals.pipeline import Hit, fingerprint_of, raise_hit
from firestop.signals.schemas import AlertResult, AlertsResult, RejectedAlert
from firestop.signals.service import derive_summary, derive_title

ALERT_MAX_BYTES = 1_000_000
MAX_ALERTS = 1_000
# Real alerts nest a handful of levels; anything deeper is an attack on whoever walks it.
MAX_DEPTH = 32
# Alerts come from one kind of place; their detector and rule say which tool sent them.
ALERT_DETECTOR = "alert"
_ECHO = 100  # how much of an unusable value the answer repeats back


def unknown_source(source: str, policy: Policy) -> FirestopError:
    configured = sorted(policy.detection.alerts)
    known = ", ".join(repr(s) for s in configured) if configured else "none"
    return FirestopError(
        f"no alert source {source[:_ECHO]!r}; configured sources: {known} "
        "(add one under detection.alerts in the policy)",
        [],
        404,
        "Not found",
        "not-found",
    )


def parse_alerts(body: bytes) -> list[Any]:
    """The alerts in a body: one JSON object, or an array of them."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        if "depth" in str(exc) or "recursion" in str(exc):
            raise _too_deep() from exc
        raise FirestopError("the body is not valid JSON", [FieldError("body", str(exc))]) from exc
    if isinstance(data, dict):
        alerts: list[Any] = [data]
    elif isinstance(data, list):
        alerts = data
    else:
        raise invalid(
            "send one alert as a JSON object, or several as an array of objects",
            [FieldError("body", f"got a JSON {_kind(data)}")],
        )
    if not alerts:
        raise invalid("the array holds no alerts", [FieldError("body", "empty array")])
    if len(alerts) > MAX_ALERTS:
        raise invalid(
            f"at most {MAX_ALERTS} alerts in one request",
            [FieldError("body", f"got {len(alerts)}; send smaller batches")],
        )
    _check_depth(data)
    return alerts


def _too_deep() -> FirestopError:
    return invalid(
        f"the alert is nested more than {MAX_DEPTH} levels deep",
        [FieldError("body", "flatten the alert")],
    )


def _check_depth(data: Any) -> None:
    """Objects and arrays nested at most ``MAX_DEPTH`` deep, the outermost counting as one."""
    # Iterative: a recursive walk is exactly what deep nesting is meant to break.
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children: Any = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > MAX_DEPTH:
            raise _too_deep()
        stack.extend((child, depth + 1) for child in children)


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    return "number"


def lookup(alert: Mapping[str, Any], spec: str) -> Any:
    """The value ``spec`` names: a literal after '=', else a dotted path (numbers index
    arrays); None when the spec is empty or the path is missing."""
    if not spec:
        return None
    if spec.startswith("="):
        return spec[1:]
    value: Any = alert
    for part in spec.split("."):
        if isinstance(value, dict):
            value = value.get(part)
        elif isinstance(value, list) and part.isdecimal() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
    return value


@dataclass(slots=True)
class ReadAlert:
    """What the policy's mapping found in one alert, as text."""

    title: str | None = None
    summary: str | None = None
    system: str | None = None
    severity: str | None = None
    category: str | None = None
    fingerprint: str | None = None


_FIELDS = ("title", "summary", "system", "severity", "category", "fingerprint")


def read_alert(alert: Any, spec: AlertSource) -> tuple[ReadAlert, list[FieldError]]:
    """Each mapped field as text. Numbers become text (ids often are numbers); objects,
    arrays and booleans are refused, naming the path."""
    read = ReadAlert()
    if not isinstance(alert, dict):
        return read, [FieldError("(alert)", f"expected a JSON object, got a {_kind(alert)}")]
    errors = []
    for name in _FIELDS:
        path = getattr(spec, name)
        value = lookup(alert, path)
        if value is None:
            continue
        if isinstance(value, str):
            text = value
        elif isinstance(value, int | float) and not isinstance(value, bool):
            text = str(value)
        else:
            errors.append(FieldError(path, f"{name}: expected text, got a {_kind(value)}"))
            continue
        setattr(read, name, text if text.strip() else None)
    return read, errors


def severity_of(word: str | None, spec: AlertSource) -> Sev | None:
    """The tool's severity word through the source's map (case aside); SEV1–SEV4 as they
    are; anything else gives no hint rather than a guess."""
    if word is None:
        return None
    folded = word.strip().casefold()
    for key, level in spec.severity_map.items():
        if key.strip().casefold() == folded:
            return level
    return next((s for s in Sev if s.value.casefold() == folded), None)


@dataclass(slots=True)
class Prepared:
    index: int
    hit: Hit
    system: System | None
    notes: list[str] = field(default_factory=list)


def prepare(
    *,
    policy: Policy,
    source: str,
    index: int,
    read: ReadAlert,
    systems: Mapping[str, System],
) -> Prepared:
    spec = policy.detection.alerts[source]
    notes = []
    title = read.title
    if title is None:
        title = f"Alert from {source}"
        notes.append(f"no title at {spec.title!r}; using {title!r}")
    system = systems.get(read.system.strip()) if read.system else None
    if read.system and system is None:
        notes.append(
            f"unknown system {read.system[:_ECHO]!r}; the signal is not linked to a system"
        )
    severity = severity_of(read.severity, spec)
    if read.severity and severity is None:
        notes.append(f"severity {read.severity[:_ECHO]!r} is not in the severity map; no hint")
    categories = {c.id for c in policy.taxonomy.categories}
    category = read.category.strip() if read.category else None
    if category is not None and category not in categories:
        notes.append(f"category {category[:_ECHO]!r} is not in the taxonomy; no hint")
        category = None
    system_key = read.system.strip() if read.system else None
    hit = Hit(
        source=SignalSource.alert,
        title=derive_title(title),
        fingerprint=fingerprint_of(
            SignalSource.alert, source, read.fingerprint or title, system_key
        ),
        detector=ALERT_DETECTOR,
        rule=f"{ALERT_DETECTOR}.{source}",
        system_id=system.id if system else None,
        system_slug=system.slug if system else None,
        criticality=system.criticality if system else None,
        summary=derive_summary(read.summary) if read.summary else "",
        category=category,
        severity=severity.value if severity else None,
    )
    return Prepared(index, hit, system, notes)


def raise_alerts(
    db: Session,
    *,
    policy: Policy,
    source: str,
    alerts: Sequence[Any],
    now: datetime | None = None,
) -> AlertsResult:
    """Each usable alert raised as a hit; unusable ones reported by index. Never commits.

    An error names the path in the alert, as the policy wrote it, and the alert's index.
    When no alert is usable the whole request is refused.
    """
    if source not in policy.detection.alerts:
        raise unknown_source(source, policy)
    spec = policy.detection.alerts[source]
    now = now or utcnow()
    reads: list[tuple[int, ReadAlert]] = []
    rejected: list[RejectedAlert] = []
    for index, alert in enumerate(alerts):
        read, errors = read_alert(alert, spec)
        if errors:
            rejected.append(RejectedAlert(index=index, errors=[e.as_dict() for e in errors]))
        else:
            reads.append((index, read))
    if not reads:
        raise invalid(
            "no alert could be read with the policy's mapping for this source",
            [
                FieldError(f"[{r.index}].{e['loc']}" if len(alerts) > 1 else e["loc"], e["msg"])
                for r in rejected
                for e in r.errors
            ],
        )
    slugs = {r.system.strip() for _, r in reads if r.system}
    systems = {s.slug: s for s in db.scalars(select(System).where(System.slug.in_(sorted(slugs))))}
    prepared = [
        prepare(policy=policy, source=source, index=i, read=r, systems=systems) for i, r in reads
    ]
    # In fingerprint order, as raise_hits does: concurrent requests never lock in a cycle.
    results: dict[int, AlertResult] = {}
    for item in sorted(prepared, key=lambda p: p.hit.fingerprint):
        outcome = raise_hit(db, policy=policy, hit=item.hit, now=now)
        signal = outcome.signal
        results[item.index] = AlertResult(
            index=item.index,
            signal=signal.id,
            outcome="new" if outcome.created else "deduplicated",
            escalated=outcome.escalated,
            status=SignalStatus(signal.status),
            route_rule=signal.route_rule,
            system=item.system.slug if item.system else None,
            notes=item.notes,
        )
    return AlertsResult(
        source=source,
        accepted=len(results),
        results=[results[i] for i in sorted(results)],
        rejected=rejected,
    )
