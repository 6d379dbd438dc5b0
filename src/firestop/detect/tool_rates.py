"""Agent tool misuse over time (D3): unusual tool-call rates and unusual tool sequences.

This is the stream half of the ``tool_misuse`` detector (the content half judges single calls:
unapproved tools, missing approvals); both share the detector id and its settings section, so
one ``enabled: false`` turns both off. Category ``insecure_behaviour``.

* ``tool_misuse.rate`` — a tool is called more often this minute than its learned per-minute
  baseline allows: mean + ``rate_k`` (5) standard deviations (at least √mean) and at least
  ``rate_min_calls`` (30), once ``rate_warmup_minutes`` (30) active minutes are learned. Only
  minutes in which the system called some tool count, so idle nights do not teach the
  baseline that zero is normal; a tool first seen after warm-up starts from zeros.
* ``tool_misuse.sequence`` — a pair of consecutive tool calls in one interaction (a bigram;
  the first call pairs with the start) that involves a tool the inventory marks destructive
  and that the system has rarely or never made: seen at most ``sequence_rare_share`` (0.001)
  of all bigrams, after ``sequence_warmup`` (500) bigrams. The distribution is counted in the
  state, at most ``max_bigrams`` (2000) distinct pairs (beyond that every count is halved,
  which keeps the common pairs and forgets the stale).

Each tool or bigram is reported at most once per ``cooldown_minutes`` (60). Minutes follow
arrival time; late records (started over an hour ago) do not count towards rates.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from firestop.detect.base import Finding, Observed, SystemConfig
from firestop.detect.stats import Baseline
from firestop.detect.stream_state import (
    MAX_EXAMPLES,
    StateRows,
    by_system,
    late_before,
    load_state,
    setting_float,
    setting_int,
)

ID = "tool_misuse"
RATE = f"{ID}.rate"
SEQUENCE = f"{ID}.sequence"
START = ""  # the "tool" before the first call; real tool names are never empty
_SEP = "\x1f"  # between the two names of a bigram key; tool names are printable text
_MINUTE = 60
_MEMORY_MINUTES = 7 * 24 * 60


class _Batch:
    __slots__ = ("bigrams", "calls", "names")

    def __init__(self) -> None:
        self.calls: dict[str, int] = {}  # on-time calls per tool, for rates
        self.bigrams: dict[str, int] = {}
        # Each interaction's tool names (None without tool calls), in batch order, so that an
        # alarm's examples are found without reading the calls again.
        self.names: list[list[str] | None] = []


def tally(items: Sequence[Observed], now: datetime) -> _Batch:
    b = _Batch()
    calls, bigrams, every = b.calls, b.bigrams, b.names
    cutoff = late_before(now)
    for ob in items:
        r = ob.record
        tool_calls = r.tool_calls
        if not tool_calls:
            every.append(None)
            continue
        names = [c.name for c in tool_calls]
        # Hostile input: a name containing the separator would split a bigram key elsewhere.
        for k, name in enumerate(names):
            if _SEP in name:
                names[k] = name.replace(_SEP, " ")
        every.append(names)
        if r.started_at >= cutoff:
            for name in names:
                calls[name] = calls.get(name, 0) + 1
        prev = START
        for name in names:
            key = f"{prev}{_SEP}{name}"
            bigrams[key] = bigrams.get(key, 0) + 1
            prev = name
    return b


def _calling(items: Sequence[Observed], b: _Batch, tool: str) -> list[int]:
    """Interactions that called the tool: an alarm's examples, found again when needed."""
    return [
        ob.interaction_id
        for ob, names in zip(items, b.names, strict=True)
        if names is not None and tool in names
    ][:MAX_EXAMPLES]


def _with_bigram(items: Sequence[Observed], b: _Batch, key: str) -> list[int]:
    found = []
    for ob, names in zip(items, b.names, strict=True):
        if names is None:
            continue
        if key in {f"{a}{_SEP}{c}" for a, c in zip([START, *names], names, strict=False)}:
            found.append(ob.interaction_id)
            if len(found) >= MAX_EXAMPLES:
                break
    return found


def _live(raw: Any, at: float) -> dict[str, float]:
    if not isinstance(raw, dict):
        return {}
    return {str(k): float(v) for k, v in raw.items() if isinstance(v, int | float) and v > at}


def _destructive(config: SystemConfig, name: str) -> bool:
    tool = config.tools.get(name)
    return tool is not None and tool.destructive


class ToolRatesDetector:
    id = ID

    def observe(self, db: Session, batch: Sequence[Observed], now: datetime) -> list[Finding]:
        findings: list[Finding] = []
        for config, items in by_system(batch, ID):
            b = tally(items, now)
            if not b.bigrams:
                continue  # no tool calls: the state is not read
            rows = load_state(db, ID, config.id)
            findings += self._rates(rows, config, b, items, now)
            findings += self._sequences(rows, config, b, items, now)
            rows.save(now)
        return findings

    def _rates(
        self,
        rows: StateRows,
        config: SystemConfig,
        b: _Batch,
        items: Sequence[Observed],
        now: datetime,
    ) -> list[Finding]:
        if not b.calls:
            return []
        at = now.timestamp()
        minute = int(at // _MINUTE)
        warmup = setting_int(config, ID, "rate_warmup_minutes", 30)
        k = setting_float(config, ID, "rate_k", 5.0)
        min_calls = setting_int(config, ID, "rate_min_calls", 30)
        cooldown = setting_float(config, ID, "cooldown_minutes", 60.0) * 60.0
        max_tools = setting_int(config, ID, "max_tools", 100)

        stored = rows.get("rates") or {}
        raw_base, raw_current, current = stored.get("b"), stored.get("cur"), stored.get("m")
        active = stored.get("n")
        base: dict[str, Baseline] = {}
        if isinstance(raw_base, dict):
            base = {
                str(t): Baseline.from_dict(v) for t, v in raw_base.items() if isinstance(v, dict)
            }
        counts: dict[str, int] = {}
        if isinstance(raw_current, dict):
            counts = {str(t): c for t, c in raw_current.items() if isinstance(c, int)}
        if not isinstance(active, int):
            active = 0
        if not isinstance(current, int):
            current = minute
        elif minute > current:
            # The last active minute ended: every known tool learns its count (0 if unused).
            for tool in set(base) | set(counts):
                own = base.get(tool)
                if own is None:
                    own = base[tool] = Baseline(active, 0.0, 0.0)
                own.add(counts.get(tool, 0), _MEMORY_MINUTES)
            active += 1
            current, counts = minute, {}
        quiet = _live(stored.get("a"), at)

        findings: list[Finding] = []
        for tool in sorted(b.calls):
            if tool not in base and tool not in counts and len(base) + len(counts) >= max_tools:
                continue
            counts[tool] = counts.get(tool, 0) + b.calls[tool]
            if active < warmup or tool in quiet:
                continue
            own = base.get(tool) or Baseline(active, 0.0, 0.0)
            spread = max(own.sd, math.sqrt(max(own.mean, 0.0)), 1.0)
            limit = max(own.mean + k * spread, float(min_calls))
            if counts[tool] <= limit:
                continue
            quiet[tool] = at + cooldown
            findings.append(
                Finding(
                    detector=ID,
                    rule=RATE,
                    title=f"Tool {tool} called {counts[tool]} times this minute "
                    f"(usually {own.mean:.1f})"[:200],
                    severity="SEV3",
                    category="insecure_behaviour",
                    group=tool,
                    detail={
                        "tool": tool,
                        "calls_this_minute": counts[tool],
                        "baseline_mean": round(own.mean, 3),
                        "baseline_sd": round(own.sd, 3),
                        "limit": round(limit, 3),
                        "destructive": _destructive(config, tool),
                    },
                    interaction_ids=_calling(items, b, tool),
                    system_id=config.id,
                )
            )
        state = {
            "m": current,
            "n": active,
            "cur": counts,
            "b": {t: v.to_dict() for t, v in base.items()},
            "a": quiet,
        }
        rows.put("rates", state)
        return findings

    def _sequences(
        self,
        rows: StateRows,
        config: SystemConfig,
        b: _Batch,
        items: Sequence[Observed],
        now: datetime,
    ) -> list[Finding]:
        at = now.timestamp()
        warmup = setting_int(config, ID, "sequence_warmup", 500)
        rare = setting_float(config, ID, "sequence_rare_share", 0.001)
        cooldown = setting_float(config, ID, "cooldown_minutes", 60.0) * 60.0
        max_bigrams = setting_int(config, ID, "max_bigrams", 2000)

        stored = rows.get("sequences") or {}
        raw_counts = stored.get("c")
        seen: dict[str, int] = {}
        if isinstance(raw_counts, dict):
            seen = {str(k): v for k, v in raw_counts.items() if isinstance(v, int) and v > 0}
        total = sum(seen.values())
        quiet = _live(stored.get("a"), at)

        findings: list[Finding] = []
        if total >= warmup:
            for key in sorted(b.bigrams):
                first, _, second = key.partition(_SEP)
                destructive = [t for t in (first, second) if t and _destructive(config, t)]
                if not destructive or key in quiet:
                    continue
                before = seen.get(key, 0)
                if before > rare * total:
                    continue
                quiet[key] = at + cooldown
                findings.append(
                    _sequence_finding(
                        config, first, second, destructive, before, total, b, key, items
                    )
                )
        for key, c in b.bigrams.items():
            seen[key] = seen.get(key, 0) + c
        if len(seen) > max_bigrams:
            seen = {k: v // 2 for k, v in seen.items() if v >= 2}
        rows.put("sequences", {"c": seen, "a": quiet})
        return findings


def _sequence_finding(
    config: SystemConfig,
    first: str,
    second: str,
    destructive: list[str],
    before: int,
    total: int,
    b: _Batch,
    key: str,
    items: Sequence[Observed],
) -> Finding:
    shown = f"{first or 'start'} → {second}"
    return Finding(
        detector=ID,
        rule=SEQUENCE,
        title=f"Unusual tool sequence {shown} involving destructive {', '.join(destructive)}"[:200],
        severity="SEV2",
        category="insecure_behaviour",
        group=shown,
        detail={
            "from": first or None,
            "to": second,
            "destructive": destructive,
            "seen_before": before,
            "bigrams_seen": total,
            "in_batch": b.bigrams[key],
        },
        interaction_ids=_with_bigram(items, b, key),
        system_id=config.id,
    )
