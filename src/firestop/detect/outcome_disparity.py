"""Outcome disparity (D3): one group of people gets favourable decisions markedly less often.

Interactions that carry an ``outcome`` with a ``group`` are counted per group in hourly
buckets over a sliding window. When, over that window, the group with the lowest favourable
rate gets it at less than ``ratio`` times the rate of the group with the highest (the
four-fifths rule of US employment-selection guidance), the difference is statistically
significant, and both groups have enough decisions, the detector raises
``outcome_disparity.four_fifths``. The significance level is divided by the number of group
pairs (Bonferroni): picking the extreme pair out of many groups would otherwise find
"significant" gaps in pure noise.

Settings: ``window_hours`` (24), ``ratio`` (0.8), ``alpha`` (0.01), ``min_samples`` (30 per
group), ``max_groups`` (50 per system; more are ignored). A pair of groups is reported at most
once per window.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from firestop.detect.base import Finding, Observed, SystemConfig
from firestop.detect.stats import WindowCounter, four_fifths, two_proportion_test
from firestop.detect.stream_state import (
    MAX_EXAMPLES,
    by_system,
    load_state,
    setting_float,
    setting_int,
)

log = logging.getLogger(__name__)

ID = "outcome_disparity"
RULE = f"{ID}.four_fifths"
KEY = "window"
_HOUR = 3600


class _Tally:
    __slots__ = ("favourable", "n", "unfavourable_ids")

    def __init__(self) -> None:
        self.n = 0
        self.favourable = 0
        self.unfavourable_ids: list[int] = []


def tally(items: Sequence[Observed]) -> dict[str, _Tally]:
    groups: dict[str, _Tally] = {}
    for ob in items:
        outcome = ob.record.outcome
        if outcome is None or outcome.group is None:
            continue
        t = groups.get(outcome.group)
        if t is None:
            t = groups[outcome.group] = _Tally()
        t.n += 1
        if outcome.favourable:
            t.favourable += 1
        elif len(t.unfavourable_ids) < MAX_EXAMPLES:
            t.unfavourable_ids.append(ob.interaction_id)
    return groups


class OutcomeDisparityDetector:
    id = ID

    def observe(self, db: Session, batch: Sequence[Observed], now: datetime) -> list[Finding]:
        findings: list[Finding] = []
        at = now.timestamp()
        for config, items in by_system(batch, ID):
            groups = tally(items)
            if not groups:
                continue  # nothing to count: the state is not even read
            finding = self._system(db, config, groups, at, now)
            if finding is not None:
                findings.append(finding)
        return findings

    def _system(
        self,
        db: Session,
        config: SystemConfig,
        groups: dict[str, _Tally],
        at: float,
        now: datetime,
    ) -> Finding | None:
        window_hours = setting_int(config, ID, "window_hours", 24)
        threshold = setting_float(config, ID, "ratio", 0.8)
        alpha = setting_float(config, ID, "alpha", 0.01, lo=1e-12)
        min_samples = setting_int(config, ID, "min_samples", 30)
        max_groups = setting_int(config, ID, "max_groups", 50)

        rows = load_state(db, ID, config.id)
        stored = rows.get(KEY) or {}
        raw_window = stored.get("w")
        window = WindowCounter.from_dict(
            raw_window if isinstance(raw_window, dict) else {},
            width=_HOUR,
            span=window_hours,
            fields=2,
        )
        raw_alarms = stored.get("a")
        alarms: dict[str, float] = {
            k: float(v)
            for k, v in (raw_alarms.items() if isinstance(raw_alarms, dict) else [])
            if isinstance(v, int | float) and v > at
        }
        window.prune(at)
        known = window.keys()
        for group, t in groups.items():
            if group not in known:
                if len(known) >= max_groups:
                    log.warning(
                        "%s: %s has %d groups; %r is ignored", ID, config.slug, len(known), group
                    )
                    continue
                known.add(group)
            window.add(at, group, (t.n, t.favourable))

        finding = None
        totals = window.totals(at)
        eligible = {g: c for g, c in totals.items() if c[0] >= min_samples}
        extremes = four_fifths({g: c[1] / c[0] for g, c in eligible.items()})
        if extremes is not None and extremes.ratio < threshold:
            low, high = eligible[extremes.low], eligible[extremes.high]
            p_value = two_proportion_test(low[1], low[0], high[1], high[0])
            pairs = len(eligible) * (len(eligible) - 1) // 2
            pair = json.dumps([extremes.low, extremes.high])
            if p_value < alpha / pairs and pair not in alarms:
                alarms[pair] = at + window_hours * _HOUR
                examples = groups[extremes.low].unfavourable_ids if extremes.low in groups else []
                finding = _finding(
                    config,
                    extremes.low,
                    extremes.high,
                    extremes.ratio,
                    p_value,
                    eligible,
                    window_hours,
                    examples,
                )
        rows.put(KEY, {"w": window.to_dict(), "a": alarms})
        rows.save(now)
        return finding


def _finding(
    config: SystemConfig,
    low: str,
    high: str,
    ratio: float,
    p_value: float,
    counts: dict[str, list[int]],
    window_hours: int,
    examples: list[int],
) -> Finding:
    detail: dict[str, Any] = {
        "low_group": low,
        "high_group": high,
        "ratio": round(ratio, 4),
        "p_value": p_value,
        "window_hours": window_hours,
        "groups": {
            g: {"decisions": n, "favourable": fav, "rate": round(fav / n, 4)}
            for g, (n, fav) in sorted(counts.items())
        },
    }
    title = f"Group {low} receives favourable outcomes at {ratio:.0%} of the rate of group {high}"
    return Finding(
        detector=ID,
        rule=RULE,
        title=title[:200],
        severity="SEV2",
        category="harmful_output",
        group=json.dumps([low, high]),
        detail=detail,
        interaction_ids=examples[:MAX_EXAMPLES],
        system_id=config.id,
    )
