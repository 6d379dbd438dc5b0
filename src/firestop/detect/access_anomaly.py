"""Access anomalies (D3): people who are not approved to use a system, or use at odd volume.

Rules, all in category ``prohibited_use``:

* ``access_anomaly.unapproved_user`` — the interaction's ``user_id`` matches none of the
  system's approved patterns (setting ``users``: shell-style globs such as ``"svc-*"`` or
  ``"*@example.com"``, matched case-sensitively; an empty list approves everyone). An
  interaction without a user counts as unapproved unless ``allow_anonymous`` is true. One
  finding per user per ``cooldown_minutes`` (60).
* ``access_anomaly.user_volume`` — one user sent more than ``max_per_hour`` interactions
  this hour (unset: no limit). Per-user counts are a Misra–Gries summary of the
  ``track_users`` (1000) heaviest users, so the state stays small however many users there
  are; its counts never overstate anyone's.
* ``access_anomaly.system_volume`` — the system's interactions this hour exceed
  ``max_total_per_hour`` (unset: no limit), or, once ``warmup_hours`` (24) hours have been
  learned, the baseline's mean + ``k`` (4) standard deviations (at least √mean, the Poisson
  spread) and at least ``min_hourly`` (100). At most once an hour each.

Hours follow arrival time (``now``); a record that started over an hour ago is late and is
left out of the volumes.
"""

from __future__ import annotations

import fnmatch
import math
import re
import threading
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from firestop.detect.base import Finding, Observed, SystemConfig
from firestop.detect.stats import Baseline, HeavyHitters
from firestop.detect.stream_state import (
    MAX_EXAMPLES,
    StateRows,
    by_system,
    late_before,
    load_state,
    setting_float,
    setting_int,
    setting_optional_int,
)

ID = "access_anomaly"
UNAPPROVED = f"{ID}.unapproved_user"
USER_VOLUME = f"{ID}.user_volume"
SYSTEM_VOLUME = f"{ID}.system_volume"
ANONYMOUS = "(anonymous)"
_HOUR = 3600
# Hours without any traffic are learned as zeros, but at most a week of them after a gap.
_MAX_GAP_HOURS = 168
# Per batch, at most this many findings for distinct unapproved or heavy users.
_MAX_USER_FINDINGS = 20


class Approval:
    """The approved-user patterns of a system as one regular expression, with the verdicts
    on users already seen (the same users come back batch after batch; a dict lookup is
    much cheaper than a match)."""

    __slots__ = ("rx", "verdicts")

    def __init__(self, patterns: Sequence[str]) -> None:
        self.rx = re.compile("|".join(fnmatch.translate(p) for p in patterns))
        self.verdicts: dict[str, bool] = {}

    def __call__(self, user: str) -> bool:
        verdict = self.verdicts.get(user)
        if verdict is None:
            if len(self.verdicts) >= 100_000:
                self.verdicts = {}  # bounded; simply start over
            verdict = self.verdicts[user] = self.rx.match(user) is not None
        return verdict


_approvals: dict[tuple[str, ...], Approval] = {}
_approvals_lock = threading.Lock()


def approved_users(patterns: Sequence[str]) -> Approval:
    """The approval check for a list of glob patterns (cached: configs are reused)."""
    key = tuple(patterns)
    with _approvals_lock:
        approval = _approvals.get(key)
        if approval is None:
            if len(_approvals) > 1000:
                _approvals.clear()
            approval = _approvals[key] = Approval(key)
        return approval


def _patterns(config: SystemConfig) -> list[str]:
    value = config.setting(ID, "users", [])
    if not isinstance(value, list):
        return []
    return [p for p in value if isinstance(p, str) and p]


class _Batch:
    __slots__ = ("count", "examples", "unapproved", "users")

    def __init__(self) -> None:
        self.count = 0  # interactions on time, for volumes
        self.users: dict[str, int] = {}  # on time, per user; only counted when limited
        self.unapproved: dict[str, list[int]] = {}  # examples per unapproved user
        self.examples: list[int] = []  # a few on-time interactions


def tally(
    items: Sequence[Observed],
    now: datetime,
    approved: Approval | None,
    *,
    anonymous_ok: bool,
    count_users: bool,
) -> _Batch:
    b = _Batch()
    cutoff = late_before(now)
    if approved is None and not count_users:
        # The common case: only the system's volume is watched.
        b.count = sum(1 for ob in items if ob.record.started_at >= cutoff)
        b.examples = [ob.interaction_id for ob in items[:MAX_EXAMPLES]]
        return b
    users = b.users
    for ob in items:
        r = ob.record
        user = r.user_id
        if approved is not None:
            ok = anonymous_ok if user is None else approved(user)
            if not ok:
                ids = b.unapproved.setdefault(user or ANONYMOUS, [])
                if len(ids) < MAX_EXAMPLES:
                    ids.append(ob.interaction_id)
        if r.started_at < cutoff:
            continue
        b.count += 1
        if count_users and user is not None:
            users[user] = users.get(user, 0) + 1
        if len(b.examples) < MAX_EXAMPLES:
            b.examples.append(ob.interaction_id)
    return b


def _of_user(items: Sequence[Observed], user: str) -> list[int]:
    return [ob.interaction_id for ob in items if ob.record.user_id == user][:MAX_EXAMPLES]


def _live(raw: Any, at: float) -> dict[str, float]:
    if not isinstance(raw, dict):
        return {}
    return {str(k): float(v) for k, v in raw.items() if isinstance(v, int | float) and v > at}


class AccessAnomalyDetector:
    id = ID

    def observe(self, db: Session, batch: Sequence[Observed], now: datetime) -> list[Finding]:
        findings: list[Finding] = []
        for config, items in by_system(batch, ID):
            patterns = _patterns(config)
            approved = approved_users(patterns) if patterns else None
            limited = setting_optional_int(config, ID, "max_per_hour") is not None
            tallied = tally(
                items,
                now,
                approved,
                anonymous_ok=bool(config.setting(ID, "allow_anonymous", False)),
                count_users=limited,
            )
            if not tallied.unapproved and not tallied.count:
                continue  # only late records from approved users: nothing to count or report
            rows = load_state(db, ID, config.id)
            at = now.timestamp()
            hour = int(at // _HOUR)
            if tallied.unapproved:
                findings += self._unapproved(rows, config, tallied, at)
            if tallied.count:
                findings += self._volume(rows, config, tallied, hour)
                if limited:
                    findings += self._users(rows, config, tallied, items, hour)
            rows.save(now)
        return findings

    def _unapproved(
        self, rows: StateRows, config: SystemConfig, b: _Batch, at: float
    ) -> list[Finding]:
        cooldown = setting_float(config, ID, "cooldown_minutes", 60.0) * 60.0
        quiet = _live((rows.get("unapproved") or {}).get("u"), at)
        findings: list[Finding] = []
        for user in sorted(b.unapproved):
            if user in quiet or len(findings) >= _MAX_USER_FINDINGS:
                continue
            quiet[user] = at + cooldown
            ids = b.unapproved[user]
            findings.append(
                Finding(
                    detector=ID,
                    rule=UNAPPROVED,
                    title=f"User {user} is not approved to use this system"[:200],
                    severity="SEV3",
                    category="prohibited_use",
                    group=user,
                    detail={"user": user, "interactions_in_batch": len(ids)},
                    interaction_ids=ids,
                    system_id=config.id,
                )
            )
        if len(quiet) > 1000:  # keep the most recent cool-downs only
            quiet = dict(sorted(quiet.items(), key=lambda kv: kv[1])[-1000:])
        if findings:
            rows.put("unapproved", {"u": quiet})
        return findings

    def _volume(self, rows: StateRows, config: SystemConfig, b: _Batch, hour: int) -> list[Finding]:
        stored = rows.get("volume") or {}
        raw_base, current, count = stored.get("b"), stored.get("h"), stored.get("c")
        base = Baseline.from_dict(raw_base if isinstance(raw_base, dict) else {})
        raw_alarmed = stored.get("a")
        alarmed: dict[str, Any] = raw_alarmed if isinstance(raw_alarmed, dict) else {}
        if not isinstance(current, int) or not isinstance(count, int):
            current, count = hour, 0
        elif hour > current:
            # Close the hour that ended and learn the silent hours since as zeros: a system
            # used by day and idle by night has a baseline that knows both.
            memory = 24 * 28
            base.add(count, memory)
            for _ in range(min(hour - current - 1, _MAX_GAP_HOURS)):
                base.add(0.0, memory)
            current, count = hour, 0
        count += b.count

        findings: list[Finding] = []
        cap = setting_optional_int(config, ID, "max_total_per_hour")
        learned = None
        if base.ready(setting_int(config, ID, "warmup_hours", 24)):
            k = setting_float(config, ID, "k", 4.0)
            spread = max(base.sd, math.sqrt(max(base.mean, 0.0)), 1.0)
            learned = max(base.mean + k * spread, setting_int(config, ID, "min_hourly", 100))
        limit, trigger = None, ""
        if cap is not None and count > cap:
            limit, trigger = cap, "max_total_per_hour"
        elif learned is not None and count > learned:
            limit, trigger = math.floor(learned), "baseline"
        if limit is not None and alarmed.get(trigger) != current:
            alarmed = {**alarmed, trigger: current}
            findings.append(
                Finding(
                    detector=ID,
                    rule=SYSTEM_VOLUME,
                    title=f"{count} interactions this hour, above the limit of {limit}",
                    severity="SEV3",
                    category="prohibited_use",
                    group=trigger,
                    detail={
                        "interactions_this_hour": count,
                        "limit": limit,
                        "trigger": trigger,
                        "baseline_mean": round(base.mean, 3) if base.n else None,
                        "baseline_sd": round(base.sd, 3) if base.n else None,
                        "baseline_hours": base.n,
                    },
                    interaction_ids=b.examples,
                    system_id=config.id,
                )
            )
        rows.put("volume", {"h": current, "c": count, "b": base.to_dict(), "a": alarmed})
        return findings

    def _users(
        self,
        rows: StateRows,
        config: SystemConfig,
        b: _Batch,
        items: Sequence[Observed],
        hour: int,
    ) -> list[Finding]:
        limit = setting_optional_int(config, ID, "max_per_hour")
        assert limit is not None
        capacity = setting_int(config, ID, "track_users", 1000)
        stored = rows.get("users") or {}
        raw = stored.get("hh")
        alarmed_raw = stored.get("a")
        heavy, alarmed = HeavyHitters(capacity), set[str]()
        # Counts are per hour: a stored summary of an earlier hour is simply replaced.
        if stored.get("h") == hour and isinstance(raw, dict):
            heavy = HeavyHitters.from_dict(raw, capacity=capacity)
            if isinstance(alarmed_raw, list):
                alarmed = {u for u in alarmed_raw if isinstance(u, str)}
        heavy.merge(b.users)
        findings: list[Finding] = []
        for user in sorted(b.users):
            seen = heavy.estimate(user)
            if seen <= limit or user in alarmed or len(findings) >= _MAX_USER_FINDINGS:
                continue
            alarmed.add(user)
            findings.append(
                Finding(
                    detector=ID,
                    rule=USER_VOLUME,
                    title=f"User {user} sent at least {seen} interactions this hour"[:200],
                    severity="SEV3",
                    category="prohibited_use",
                    group=user,
                    detail={"user": user, "at_least": seen, "limit": limit},
                    interaction_ids=_of_user(items, user),
                    system_id=config.id,
                )
            )
        alarmed &= set(heavy.counts)
        rows.put("users", {"h": hour, "hh": heavy.to_dict(), "a": sorted(alarmed)})
        return findings
