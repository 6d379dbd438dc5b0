"""Availability and vendor errors (D3): a provider starts failing a system's requests.

Per system and provider (the interaction's ``provider``, "unknown" when absent), requests,
errors and timeouts are counted in one-minute buckets over a short sliding window. With at
least ``min_requests`` in the window, the detector raises

* ``vendor_errors.error_rate`` when the share of ``status: error`` reaches ``error_rate``, or
  jumps to ``jump`` times its learned baseline (and at least ``min_rate``, and significantly);
* ``vendor_errors.timeouts`` likewise for ``status: timeout`` (``timeout_rate``).

The absolute threshold catches an outage on a provider that never failed before; the jump
catches a provider whose usual 0.5% error rate became 4%, far below any absolute threshold.
Each provider and rule is reported at most once per ``cooldown_minutes``.

Settings: ``window_minutes`` (5), ``min_requests`` (20), ``error_rate`` (0.2),
``timeout_rate`` (0.2), ``jump`` (3), ``min_rate`` (0.05), ``warmup`` (200 requests before
the baseline counts), ``cooldown_minutes`` (30), ``max_providers`` (20; more count as
"other").

``status_notice_finding`` turns a vendor's status-page notice (arriving through the alert
webhook) into a finding of the same detector, so it groups with the error rates it explains.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from firestop.detect.base import Finding, Observed, SystemConfig
from firestop.detect.stats import Baseline, Summary, WindowCounter, normal_sf
from firestop.detect.stream_state import (
    MAX_EXAMPLES,
    by_system,
    late_before,
    load_state,
    setting_float,
    setting_int,
)

log = logging.getLogger(__name__)

ID = "vendor_errors"
ERROR_RULE = f"{ID}.error_rate"
TIMEOUT_RULE = f"{ID}.timeouts"
NOTICE_RULE = f"{ID}.status_notice"
KEY = "window"
UNKNOWN = "unknown"
OTHER = "other"
_SEVERITY = re.compile(r"^SEV[1-4]$")
# A jump must also be this unlikely under the baseline rate (one-sided binomial, normal
# approximation): a small window's noise would otherwise look like a tripled rate.
_JUMP_P = 1e-3


class _Provider:
    __slots__ = ("errors", "failed_ids", "n", "timeout_ids", "timeouts")

    def __init__(self) -> None:
        self.n = 0
        self.errors = 0
        self.timeouts = 0
        self.failed_ids: list[int] = []
        self.timeout_ids: list[int] = []


def tally(items: Sequence[Observed], now: datetime) -> dict[str, _Provider]:
    providers: dict[str, _Provider] = {}
    cutoff = late_before(now)
    for ob in items:
        r = ob.record
        if r.started_at < cutoff:
            continue
        name = r.provider or UNKNOWN
        p = providers.get(name)
        if p is None:
            p = providers[name] = _Provider()
        p.n += 1
        st = r.status
        if st == "error":
            p.errors += 1
            if len(p.failed_ids) < MAX_EXAMPLES:
                p.failed_ids.append(ob.interaction_id)
        elif st == "timeout":
            p.timeouts += 1
            if len(p.timeout_ids) < MAX_EXAMPLES:
                p.timeout_ids.append(ob.interaction_id)
    return providers


def _jumped(events: int, n: int, base: Baseline, jump: float, min_rate: float) -> bool:
    """Whether ``events`` of ``n`` is a jump over the baseline rate: ``jump`` times it, at
    least ``min_rate``, and too many to be the baseline's noise."""
    rate = events / n
    p0 = min(max(base.mean, 1e-4), 0.5)
    if rate < max(jump * p0, min_rate):
        return False
    z = (events - n * p0) / math.sqrt(n * p0 * (1.0 - p0))
    return normal_sf(z) < _JUMP_P


class VendorErrorsDetector:
    id = ID

    def observe(self, db: Session, batch: Sequence[Observed], now: datetime) -> list[Finding]:
        findings: list[Finding] = []
        for config, items in by_system(batch, ID):
            providers = tally(items, now)
            if providers:
                findings += self._system(db, config, providers, now)
        return findings

    def _system(
        self, db: Session, config: SystemConfig, providers: dict[str, _Provider], now: datetime
    ) -> list[Finding]:
        at = now.timestamp()
        window_minutes = setting_int(config, ID, "window_minutes", 5)
        min_requests = setting_int(config, ID, "min_requests", 20)
        limits = {
            ERROR_RULE: setting_float(config, ID, "error_rate", 0.2),
            TIMEOUT_RULE: setting_float(config, ID, "timeout_rate", 0.2),
        }
        jump = setting_float(config, ID, "jump", 3.0, lo=1.0)
        min_rate = setting_float(config, ID, "min_rate", 0.05)
        warmup = setting_int(config, ID, "warmup", 200)
        cooldown = setting_float(config, ID, "cooldown_minutes", 30.0) * 60.0
        max_providers = setting_int(config, ID, "max_providers", 20)

        rows = load_state(db, ID, config.id)
        stored = rows.get(KEY) or {}
        raw = stored.get("w")
        window = WindowCounter.from_dict(
            raw if isinstance(raw, dict) else {}, width=60, span=window_minutes, fields=3
        )
        raw_baselines = stored.get("b")
        baselines: dict[str, dict[str, Baseline]] = {}
        if isinstance(raw_baselines, dict):
            for name, pair in raw_baselines.items():
                if isinstance(pair, dict):
                    baselines[name] = {
                        rule: Baseline.from_dict(b if isinstance(b, dict) else {})
                        for rule, b in pair.items()
                    }
        raw_alarms = stored.get("a")
        alarms: dict[str, float] = {
            k: float(v)
            for k, v in (raw_alarms.items() if isinstance(raw_alarms, dict) else [])
            if isinstance(v, int | float) and v > at
        }

        window.prune(at)
        known = window.keys() | set(baselines)
        merged: dict[str, _Provider] = {}
        for name, p in providers.items():
            if name not in known:
                if len(known) >= max_providers:
                    name = OTHER
                known.add(name)
            window.add(at, name, (p.n, p.errors, p.timeouts))
            target = merged.setdefault(name, _Provider())
            target.n += p.n
            target.errors += p.errors
            target.timeouts += p.timeouts
            target.failed_ids += p.failed_ids
            target.timeout_ids += p.timeout_ids

        totals = window.totals(at)
        findings: list[Finding] = []
        for name in sorted(merged):
            n, errors, timeouts = totals.get(name, (0, 0, 0))
            own = baselines.setdefault(name, {})
            batch = merged[name]
            for rule, events, batch_events, ids in (
                (ERROR_RULE, errors, batch.errors, batch.failed_ids),
                (TIMEOUT_RULE, timeouts, batch.timeouts, batch.timeout_ids),
            ):
                base = own.setdefault(rule, Baseline())
                firing = False
                trigger = ""
                if n >= min_requests:
                    if events / n >= limits[rule]:
                        firing, trigger = True, "threshold"
                    elif base.ready(warmup) and _jumped(events, n, base, jump, min_rate):
                        firing, trigger = True, "jump"
                if not firing:
                    # Learned only from calm batches, so an outage never becomes the norm.
                    rate = batch_events / batch.n
                    base.add_summary(Summary(batch.n, rate, rate * (1 - rate)), 10_000)
                    continue
                alarm_key = f"{rule}:{name}"
                if alarm_key in alarms:
                    continue
                alarms[alarm_key] = at + cooldown
                findings.append(
                    _finding(config, rule, name, n, events, base, trigger, window_minutes, ids)
                )
        stored_baselines = {
            name: {rule: b.to_dict() for rule, b in pair.items()}
            for name, pair in baselines.items()
            if name in known
        }
        rows.put(KEY, {"w": window.to_dict(), "b": stored_baselines, "a": alarms})
        rows.save(now)
        return findings


def _finding(
    config: SystemConfig,
    rule: str,
    provider: str,
    n: int,
    events: int,
    base: Baseline,
    trigger: str,
    window_minutes: int,
    ids: list[int],
) -> Finding:
    rate = events / n
    what = "errors" if rule == ERROR_RULE else "timeouts"
    detail: dict[str, Any] = {
        "provider": provider,
        "requests": n,
        what: events,
        "rate": round(rate, 4),
        "baseline_rate": round(base.mean, 6) if base.n else None,
        "trigger": trigger,
        "window_minutes": window_minutes,
    }
    title = f"{provider}: {rate:.0%} of {n} requests ended in {what} in {window_minutes} minutes"
    return Finding(
        detector=ID,
        rule=rule,
        title=title[:200],
        severity="SEV2" if rate >= 0.5 else "SEV3",
        category="availability",
        group=provider,
        detail=detail,
        interaction_ids=ids[:MAX_EXAMPLES],
        system_id=config.id,
    )


def status_notice_finding(
    system_config: SystemConfig, provider: str, title: str, severity: str | None = None
) -> Finding:
    """A vendor status-page notice (an incident or degradation the provider announced) as a
    finding of this detector, grouped with that provider's error-rate findings."""
    hint = severity if severity is not None and _SEVERITY.match(severity) else None
    provider = provider.strip() or UNKNOWN
    return Finding(
        detector=ID,
        rule=NOTICE_RULE,
        title=f"{provider} status: {title}"[:200],
        severity=hint,
        category="availability",
        group=provider,
        detail={"provider": provider, "source": "status_page", "notice": title[:2000]},
        system_id=system_config.id,
    )
