"""The stream detectors against a real database (SQLite, and PostgreSQL when configured).

Interaction ids here are made up: stream detectors only name interactions, they never look
them up. Time is given explicitly, batch by batch.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from firestop.detect.access_anomaly import AccessAnomalyDetector
from firestop.detect.base import Finding, Observed, SystemConfig
from firestop.detect.config import ConfigCache, build_config
from firestop.detect.drift import DriftDetector, collect, series_values
from firestop.detect.metrics import UnknownSystems, record_metrics
from firestop.detect.models import DetectorState, MetricPoint
from firestop.detect.outcome_disparity import OutcomeDisparityDetector
from firestop.detect.schemas import MetricIn
from firestop.detect.stream_state import load_state
from firestop.detect.streams import STREAM_DETECTORS, observe_all
from firestop.detect.tool_rates import ToolRatesDetector
from firestop.detect.vendor_errors import VendorErrorsDetector, status_notice_finding
from firestop.inventory.models import System, Tool
from firestop.ledger.schemas import InteractionIn
from firestop.policy.service import load_policy

POLICY = load_policy(None)
T0 = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


def make_system(
    db: Session,
    slug: str = "support-bot",
    *,
    detectors: dict[str, Any] | None = None,
    tools: Sequence[tuple[str, bool]] = (),
) -> SystemConfig:
    system = System(slug=slug, name=slug, criticality="high", detectors=detectors or {})
    for i, (name, destructive) in enumerate(tools):
        system.tools.append(Tool(name=name, destructive=destructive, position=i))
    db.add(system)
    db.flush()
    return build_config(system, POLICY)


class Feed:
    """Makes batches of observed interactions for one system, numbering them 1, 2, 3 …"""

    def __init__(self, config: SystemConfig) -> None:
        self.config = config
        self.next_id = 1

    def batch(self, now: datetime, records: Sequence[dict[str, Any]]) -> list[Observed]:
        out = []
        for fields in records:
            fields = {"started_at": now, **fields}
            record = InteractionIn(system=self.config.slug, **fields)
            out.append(Observed(self.next_id, record, self.config))
            self.next_id += 1
        return out


def rules(findings: Sequence[Finding]) -> list[str]:
    return sorted(f.rule for f in findings)


def run_batches(
    db: Session,
    detector: Any,
    feed: Feed,
    make: Callable[[random.Random, int], dict[str, Any]],
    *,
    batches: int,
    size: int,
    start: datetime = T0,
    step: timedelta = timedelta(seconds=10),
    seed: int = 1,
) -> tuple[list[Finding], datetime]:
    """Feeds ``batches`` batches of ``size`` records from ``make``; returns findings and the
    time after the last batch."""
    rng = random.Random(seed)
    found: list[Finding] = []
    now = start
    for b in range(batches):
        records = [make(rng, b) for _ in range(size)]
        found += detector.observe(db, feed.batch(now, records), now)
        now += step
    return found, now


def state_rows(db: Session, detector: str, system_id: int) -> dict[str, dict[str, Any]]:
    table = DetectorState.__table__
    rows = db.execute(
        select(table.c.key, table.c.state).where(
            table.c.detector == detector, table.c.system_id == system_id
        )
    )
    return {key: state for key, state in rows}


# --- drift -----------------------------------------------------------------------------------


def normal_traffic(rng: random.Random, _: int) -> dict[str, Any]:
    """Noisy but stationary: every drift series present."""
    status = "error" if rng.random() < 0.02 else "refused" if rng.random() < 0.01 else "ok"
    record: dict[str, Any] = {
        "latency_ms": rng.lognormvariate(6.2, 0.4),
        "usage": {
            "input_tokens": max(1, int(rng.gauss(800, 200))),
            "output_tokens": max(1, int(rng.gauss(300, 80))),
        },
        "status": status,
        "attributes": {"eval.groundedness": min(1.0, max(0.0, rng.gauss(0.85, 0.08)))},
    }
    if rng.random() < 0.3:
        record["feedback"] = [
            {"kind": "thumbs", "value": rng.random() > 0.1},
            {"kind": "rating", "value": rng.choice([3, 4, 4, 5, 5])},
        ]
    return record


def test_drift_latency_step_gives_one_finding(db: Session) -> None:
    config = make_system(db)
    feed = Feed(config)
    detector = DriftDetector()

    def traffic(rng: random.Random, _: int) -> dict[str, Any]:
        return {"latency_ms": rng.gauss(500, 50), "usage": {"output_tokens": rng.randint(200, 400)}}

    found, now = run_batches(db, detector, feed, traffic, batches=30, size=50)
    assert found == []

    def slower(rng: random.Random, _: int) -> dict[str, Any]:
        return {**traffic(rng, 0), "latency_ms": rng.gauss(800, 50)}

    first_slow = feed.next_id
    found, _ = run_batches(db, detector, feed, slower, batches=40, size=50, start=now, seed=2)
    assert rules(found) == ["drift.latency_ms"]
    f = found[0]
    assert f.detector == "drift" and f.category == "availability" and f.group == "up"
    assert f.system_id == config.id
    assert f.detail["direction"] == "up"
    assert f.detail["baseline_mean"] == pytest.approx(500, abs=15)
    assert f.detail["current_mean"] == pytest.approx(800, abs=30)
    assert 0 < len(f.interaction_ids) <= 50
    assert all(i >= first_slow for i in f.interaction_ids)


def test_drift_stationary_noise_over_many_batches_raises_nothing(db: Session) -> None:
    config = make_system(db)
    found, _ = run_batches(
        db, DriftDetector(), Feed(config), normal_traffic, batches=200, size=50, seed=11
    )
    assert found == []
    keys = set(state_rows(db, "drift", config.id))
    assert {"latency_ms", "error_rate", "refusal_rate", "feedback.rating"} <= keys
    assert {"feedback.thumbs_down", "eval.groundedness", "input_tokens"} <= keys


def test_drift_says_nothing_while_warming_up(db: Session) -> None:
    config = make_system(db)
    feed = Feed(config)
    detector = DriftDetector()
    found, now = run_batches(
        db, detector, feed, lambda r, _: {"latency_ms": r.gauss(500, 50)}, batches=3, size=50
    )
    # 150 values, below the warm-up of 200: a huge jump is not yet measurable against anything.
    found, _ = run_batches(
        db, detector, feed, lambda r, _: {"latency_ms": 5000.0}, batches=1, size=40, start=now
    )
    assert found == []


def test_drift_error_rate_rise(db: Session) -> None:
    config = make_system(db)
    feed = Feed(config)
    detector = DriftDetector()

    def calls(error_rate: float) -> Callable[[random.Random, int], dict[str, Any]]:
        return lambda r, _: {"status": "error" if r.random() < error_rate else "ok"}

    found, now = run_batches(db, detector, feed, calls(0.01), batches=60, size=50)
    assert found == []
    failing_from = feed.next_id
    batches = []
    rng = random.Random(2)
    for b in range(10):
        at = now + timedelta(seconds=10 * b)
        batch = feed.batch(at, [calls(0.3)(rng, b) for _ in range(50)])
        batches.append(batch)
        found += detector.observe(db, batch, at)
    assert rules(found) == ["drift.error_rate"]
    assert found[0].category == "availability"
    assert found[0].detail["current_mean"] > 0.15
    # The examples are failed interactions of the batch that raised the alarm.
    failed = {ob.interaction_id for b in batches for ob in b if ob.record.status == "error"}
    assert 0 < len(found[0].interaction_ids) <= 50
    assert set(found[0].interaction_ids) <= failed
    assert min(found[0].interaction_ids) >= failing_from


def test_drift_evaluation_score_and_feedback_fall(db: Session) -> None:
    config = make_system(db)
    feed = Feed(config)
    detector = DriftDetector()

    def scored(mean: float, down: float) -> Callable[[random.Random, int], dict[str, Any]]:
        return lambda r, _: {
            "attributes": {"eval.groundedness": r.gauss(mean, 0.05)},
            "feedback": [{"kind": "thumbs", "value": "down" if r.random() < down else "up"}],
        }

    found, now = run_batches(db, detector, feed, scored(0.9, 0.05), batches=40, size=50)
    assert found == []
    found, _ = run_batches(db, detector, feed, scored(0.7, 0.4), batches=10, size=50, start=now)
    assert rules(found) == ["drift.eval.groundedness", "drift.feedback.thumbs_down"]
    by_rule = {f.rule: f for f in found}
    assert by_rule["drift.eval.groundedness"].detail["direction"] == "down"
    assert by_rule["drift.feedback.thumbs_down"].detail["direction"] == "up"
    assert {f.category for f in found} == {"harmful_output"}


def test_drift_state_survives_across_sessions(app: FastAPI, db: Session) -> None:
    config = make_system(db)
    db.commit()
    feed = Feed(config)

    def traffic(level: float) -> Callable[[random.Random, int], dict[str, Any]]:
        return lambda r, _: {"latency_ms": r.gauss(level, 20)}

    found, now = run_batches(db, DriftDetector(), feed, traffic(300), batches=10, size=50)
    db.commit()
    db.close()
    assert found == []
    with app.state.sessionmaker() as later:
        stored = state_rows(later, "drift", config.id)["latency_ms"]
        assert stored["b"]["n"] >= 200  # warmed up, and that was kept
        found, _ = run_batches(
            later, DriftDetector(), feed, traffic(400), batches=10, size=50, start=now
        )
        later.commit()
    # A fresh detector on a fresh session knew the baseline: the step is found at once.
    assert rules(found) == ["drift.latency_ms"]


def test_drift_state_is_read_fresh_by_a_long_lived_session(app: FastAPI, db: Session) -> None:
    # Two sessions take turns with one system; each must see the other's latest state.
    config = make_system(db, detectors={"drift": {"warmup": 100_000}})
    db.commit()
    feed = Feed(config)
    with app.state.sessionmaker() as other:
        for turn in range(6):
            session = db if turn % 2 == 0 else other
            now = T0 + timedelta(seconds=turn)
            DriftDetector().observe(session, feed.batch(now, [{"latency_ms": 10.0}] * 5), now)
            session.commit()
    assert state_rows(db, "drift", config.id)["latency_ms"]["b"]["n"] == 30


def test_collect_agrees_with_the_plain_definition_of_each_series() -> None:
    config = SystemConfig(1, "s", "high", "raw", (), (), {}, {})
    feed = Feed(config)
    rng = random.Random(4)
    records = [normal_traffic(rng, 0) for _ in range(300)]
    records += [
        {"status": "ok", "finish_reason": "content_filter"},
        {"status": "timeout", "latency_ms": 30000.0},
        {"attributes": {"eval.a": float("nan"), "eval.b": True, "eval.": 1.0, "eval.c": 2}},
        {"attributes": {"eval.d": float("inf"), "eval.e": "0.5"}},
        # "drift.<series>" must fit a rule's 200 characters: 194 is the longest name watched.
        {"attributes": {"eval." + "x" * 189: 1.0, "eval." + "y" * 190: 1.0}},
        {"feedback": [{"kind": "thumbs", "value": "Down"}, {"kind": "thumbs", "value": "meh"}]},
        {"feedback": [{"kind": "rating", "value": True}, {"kind": "rating", "value": 2.5}]},
    ]
    items = feed.batch(T0, records)
    collected = collect(items)
    plain: dict[str, list[float]] = {}
    for ob in items:
        for name, x in series_values(ob.record):
            plain.setdefault(name, []).append(x)
    for name, values in collected.normal.items():
        assert values == plain[name], name
    for name, (trials, events) in collected.rates.items():
        assert (trials, events) == (len(plain[name]), sum(plain[name])), name
    assert set(plain) == set(collected.normal) | set(collected.rates)
    assert collected.normal["eval.c"] == [2] and "eval.a" not in collected.normal
    assert "eval.b" not in collected.normal and "eval.d" not in collected.normal
    assert "eval." + "x" * 189 in collected.normal
    assert "eval." + "y" * 190 not in collected.normal


def test_drift_disabled_for_a_system_keeps_no_state(db: Session) -> None:
    config = make_system(db, detectors={"drift": {"enabled": False}})
    found, _ = run_batches(db, DriftDetector(), Feed(config), normal_traffic, batches=5, size=50)
    assert found == []
    assert state_rows(db, "drift", config.id) == {}


def test_drift_settings_are_the_systems(db: Session) -> None:
    config = make_system(db, detectors={"drift": {"warmup": 20, "max_series": 1}})
    feed = Feed(config)
    detector = DriftDetector()

    def traffic(level: float) -> Callable[[random.Random, int], dict[str, Any]]:
        return lambda r, _: {
            "latency_ms": r.gauss(level, 10),
            "attributes": {"eval.a": r.random(), "eval.b": r.random()},
        }

    found, now = run_batches(db, detector, feed, traffic(100), batches=1, size=30)
    found, _ = run_batches(db, detector, feed, traffic(150), batches=1, size=30, start=now)
    assert rules(found) == ["drift.latency_ms"]  # after 30 values, not 200
    keys = set(state_rows(db, "drift", config.id))
    assert "eval.a" in keys and "eval.b" not in keys  # one dynamic series allowed


def test_business_metrics_are_stored_and_watched(db: Session) -> None:
    config = make_system(db)
    configs = ConfigCache(POLICY)
    rng = random.Random(5)
    now = T0
    all_findings: list[Finding] = []
    for hour in range(60):
        level = 0.12 if hour < 40 else 0.06
        points = [
            MetricIn(
                system=config.slug,
                name="conversion_rate",
                value=rng.gauss(level, 0.01),
                at=now,
            )
        ]
        stored, findings = record_metrics(db, configs=configs, points=points, now=now)
        assert stored == 1
        all_findings += findings
        now += timedelta(hours=1)
    assert rules(all_findings) == ["drift.metric.conversion_rate"]
    f = all_findings[0]
    assert f.detail["direction"] == "down" and f.detail["source"] == "metrics"
    assert f.category == "harmful_output" and f.interaction_ids == []
    assert db.scalar(select(func.count()).select_from(MetricPoint)) == 60


def test_metrics_for_an_unknown_system_store_nothing(db: Session) -> None:
    config = make_system(db)
    points = [
        MetricIn(system=config.slug, name="refunds", value=3.0),
        MetricIn(system="nobody", name="refunds", value=3.0),
    ]
    with pytest.raises(UnknownSystems) as caught:
        record_metrics(db, configs=ConfigCache(POLICY), points=points, now=T0)
    assert caught.value.slugs == ["nobody"]
    assert db.scalar(select(func.count()).select_from(MetricPoint)) == 0


@pytest.mark.parametrize(
    "bad",
    [
        {"name": "", "value": 1.0},
        {"name": "has space", "value": 1.0},
        {"name": "x" * 188, "value": 1.0},
        {"name": "ok", "value": float("nan")},
        {"name": "ok", "value": float("inf")},
        {"name": "ok", "value": 1e300},
        {"name": "ok", "value": 1.0, "at": "2026-11-27T10:00:00"},
        {"name": "ok", "value": 1.0, "extra": 1},
    ],
)
def test_metric_schema_refuses_bad_values(bad: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        MetricIn.model_validate({"system": "support-bot", **bad})


def test_metric_schema_defaults_the_time() -> None:
    m = MetricIn.model_validate({"system": "support-bot", "name": "p95.latency:ms", "value": 1})
    assert m.at.tzinfo is not None


# --- outcome disparity -----------------------------------------------------------------------


def decisions(rates: dict[str, float]) -> Callable[[random.Random, int], dict[str, Any]]:
    groups = sorted(rates)

    def make(rng: random.Random, _: int) -> dict[str, Any]:
        group = rng.choice(groups)
        favourable = rng.random() < rates[group]
        return {
            "outcome": {
                "decision": "approved" if favourable else "declined",
                "favourable": favourable,
                "group": group,
            }
        }

    return make


def test_disparity_between_groups_is_found_once_per_window(db: Session) -> None:
    config = make_system(db)
    feed = Feed(config)
    detector = OutcomeDisparityDetector()
    make = decisions({"a": 0.6, "b": 0.25})
    found, now = run_batches(db, detector, feed, make, batches=8, size=50)
    assert rules(found) == ["outcome_disparity.four_fifths"]
    f = found[0]
    assert f.category == "harmful_output" and f.system_id == config.id
    assert f.detail["low_group"] == "b" and f.detail["high_group"] == "a"
    assert f.detail["ratio"] < 0.8 and f.detail["p_value"] < 0.01
    groups = f.detail["groups"]
    assert set(groups) == {"a", "b"} and all(g["decisions"] >= 30 for g in groups.values())
    assert 0 < len(f.interaction_ids) <= 50
    # It continues: no second finding within the window …
    again, now = run_batches(db, detector, feed, make, batches=20, size=50, start=now)
    assert again == []
    # … but after it, if it still holds.
    later, _ = run_batches(
        db, detector, feed, make, batches=8, size=50, start=now + timedelta(hours=25)
    )
    assert rules(later) == ["outcome_disparity.four_fifths"]


def test_equal_rates_over_many_batches_raise_nothing(db: Session) -> None:
    config = make_system(db)
    found, _ = run_batches(
        db,
        OutcomeDisparityDetector(),
        Feed(config),
        decisions({"a": 0.5, "b": 0.5, "c": 0.5, "d": 0.5}),
        batches=150,
        size=50,
        step=timedelta(minutes=10),
        seed=3,
    )
    assert found == []


def test_small_groups_raise_nothing(db: Session) -> None:
    config = make_system(db)
    # 20 decisions per group in all: below min_samples, however stark the gap.
    found, _ = run_batches(
        db,
        OutcomeDisparityDetector(),
        Feed(config),
        decisions({"a": 0.9, "b": 0.1}),
        batches=1,
        size=40,
    )
    assert found == []


def test_a_gap_that_is_not_significant_raises_nothing(db: Session) -> None:
    config = make_system(db)
    feed = Feed(config)
    records = []
    for group, favourable in (("a", 20), ("b", 15)):
        for i in range(40):
            fav = i < favourable
            records.append({"outcome": {"decision": "x", "favourable": fav, "group": group}})
    # 50% against 37.5%: ratio 0.75, but with 40 each p ≈ 0.26.
    assert OutcomeDisparityDetector().observe(db, feed.batch(T0, records), T0) == []


def test_outcomes_without_groups_are_not_counted(db: Session) -> None:
    config = make_system(db)
    feed = Feed(config)
    records = [{"outcome": {"decision": "x", "favourable": False}} for _ in range(100)]
    assert OutcomeDisparityDetector().observe(db, feed.batch(T0, records), T0) == []
    assert state_rows(db, "outcome_disparity", config.id) == {}


# --- vendor errors ---------------------------------------------------------------------------


def provider_calls(
    error: float, timeout: float = 0.0, provider: str = "openai"
) -> Callable[[random.Random, int], dict[str, Any]]:
    def make(rng: random.Random, _: int) -> dict[str, Any]:
        x = rng.random()
        status = "error" if x < error else "timeout" if x < error + timeout else "ok"
        return {"provider": provider, "status": status}

    return make


def test_an_error_burst_is_found_once(db: Session) -> None:
    config = make_system(db)
    feed = Feed(config)
    detector = VendorErrorsDetector()
    found, now = run_batches(db, detector, feed, provider_calls(0.5), batches=1, size=40, seed=4)
    assert rules(found) == ["vendor_errors.error_rate"]
    f = found[0]
    assert f.category == "availability" and f.group == "openai"
    assert f.detail["provider"] == "openai" and f.detail["trigger"] == "threshold"
    assert f.detail["rate"] >= 0.2 and f.detail["requests"] == 40
    assert 0 < len(f.interaction_ids) <= 50
    more, _ = run_batches(
        db,
        detector,
        feed,
        provider_calls(0.5),
        batches=5,
        size=40,
        start=now,
        step=timedelta(minutes=1),
    )
    assert more == []  # the same outage, within the cool-down


def test_timeouts_have_their_own_rule(db: Session) -> None:
    config = make_system(db)
    found, _ = run_batches(
        db,
        VendorErrorsDetector(),
        Feed(config),
        provider_calls(0.0, 0.6, "anthropic"),
        batches=1,
        size=30,
    )
    assert rules(found) == ["vendor_errors.timeouts"]
    assert found[0].group == "anthropic"


def test_usual_error_rates_raise_nothing(db: Session) -> None:
    config = make_system(db)
    found, _ = run_batches(
        db,
        VendorErrorsDetector(),
        Feed(config),
        provider_calls(0.03, 0.01),
        batches=300,
        size=50,
        step=timedelta(seconds=20),
        seed=9,
    )
    assert found == []


def test_few_requests_raise_nothing(db: Session) -> None:
    config = make_system(db)
    found, _ = run_batches(
        db, VendorErrorsDetector(), Feed(config), provider_calls(1.0), batches=1, size=19
    )
    assert found == []


def test_a_jump_over_the_baseline_is_found_below_the_threshold(db: Session) -> None:
    config = make_system(db)
    feed = Feed(config)
    detector = VendorErrorsDetector()
    found, now = run_batches(
        db,
        detector,
        feed,
        provider_calls(0.005),
        batches=60,
        size=50,
        step=timedelta(minutes=1),
    )
    assert found == []
    found, _ = run_batches(
        db,
        detector,
        feed,
        provider_calls(0.1),
        batches=3,
        size=100,
        start=now,
        step=timedelta(seconds=30),
    )
    assert rules(found) == ["vendor_errors.error_rate"]
    assert found[0].detail["trigger"] == "jump" and found[0].detail["rate"] < 0.2


def test_late_records_do_not_count_towards_error_rates(db: Session) -> None:
    config = make_system(db)
    feed = Feed(config)
    old = T0 - timedelta(hours=3)
    records = [{"provider": "openai", "status": "error", "started_at": old} for _ in range(50)]
    assert VendorErrorsDetector().observe(db, feed.batch(T0, records), T0) == []


def test_status_notice_finding(db: Session) -> None:
    config = make_system(db)
    f = status_notice_finding(config, "openai", "Elevated error rates on GPT models", "SEV2")
    assert (f.detector, f.rule, f.category, f.severity) == (
        "vendor_errors",
        "vendor_errors.status_notice",
        "availability",
        "SEV2",
    )
    assert f.system_id == config.id and f.group == "openai"
    assert status_notice_finding(config, "x", "t", "critical").severity is None


# --- access anomalies ------------------------------------------------------------------------


def test_unapproved_users_are_reported_once_each(db: Session) -> None:
    config = make_system(db, detectors={"access_anomaly": {"users": ["svc-*", "*@example.com"]}})
    feed = Feed(config)
    detector = AccessAnomalyDetector()
    users = ["alice@example.com", "svc-batch", "mallory@evil.test", None, "mallory@evil.test"]
    records = [{"user_id": u} for u in users]
    found = detector.observe(db, feed.batch(T0, records), T0)
    assert rules(found) == ["access_anomaly.unapproved_user"] * 2
    by_user = {f.group: f for f in found}
    assert set(by_user) == {"mallory@evil.test", "(anonymous)"}
    assert by_user["mallory@evil.test"].interaction_ids == [3, 5]
    assert {f.category for f in found} == {"prohibited_use"}
    later = T0 + timedelta(minutes=5)
    assert detector.observe(db, feed.batch(later, records), later) == []


def test_approved_users_and_unrestricted_systems_raise_nothing(db: Session) -> None:
    restricted = make_system(
        db, "restricted", detectors={"access_anomaly": {"users": ["*@example.com"]}}
    )
    open_system = make_system(db, "open")
    detector = AccessAnomalyDetector()
    for config, users in (
        (restricted, ["a@example.com", "b@example.com"]),
        (open_system, ["anyone", None, "x@evil.test"]),
    ):
        feed = Feed(config)
        assert detector.observe(db, feed.batch(T0, [{"user_id": u} for u in users]), T0) == []


def test_a_user_over_the_hourly_limit(db: Session) -> None:
    config = make_system(db, detectors={"access_anomaly": {"max_per_hour": 50}})
    feed = Feed(config)
    detector = AccessAnomalyDetector()
    found: list[Finding] = []
    now = T0
    for _ in range(6):
        records = [{"user_id": "heavy"} for _ in range(11)] + [
            {"user_id": "light"} for _ in range(7)
        ]
        found += detector.observe(db, feed.batch(now, records), now)
        now += timedelta(minutes=5)
    assert rules(found) == ["access_anomaly.user_volume"]
    assert found[0].group == "heavy" and found[0].detail["at_least"] > 50
    # A new hour starts from zero.
    now = T0 + timedelta(hours=1, minutes=1)
    records = [{"user_id": "heavy"} for _ in range(30)]
    assert detector.observe(db, feed.batch(now, records), now) == []


def hourly(
    db: Session, detector: Any, feed: Feed, counts: Sequence[int], start: datetime
) -> tuple[list[Finding], datetime]:
    """Each hour's interactions in four batches."""
    found: list[Finding] = []
    now = start
    for count in counts:
        for quarter in range(4):
            n = count // 4 + (1 if quarter < count % 4 else 0)
            at = now + timedelta(minutes=15 * quarter)
            found += detector.observe(db, feed.batch(at, [{"user_id": "u"}] * n), at)
        now += timedelta(hours=1)
    return found, now


def test_system_volume_far_above_its_baseline(db: Session) -> None:
    config = make_system(db)
    feed = Feed(config)
    detector = AccessAnomalyDetector()
    rng = random.Random(8)
    usual = [max(0, int(rng.gauss(200, 20))) for _ in range(48)]
    found, now = hourly(db, detector, feed, usual, T0)
    assert found == []  # two days of ordinary hours
    found, _ = hourly(db, detector, feed, [1500], now)
    assert rules(found) == ["access_anomaly.system_volume"]
    assert found[0].detail["trigger"] == "baseline"
    assert found[0].detail["baseline_mean"] == pytest.approx(200, abs=20)


def test_system_volume_over_a_fixed_cap(db: Session) -> None:
    config = make_system(db, detectors={"access_anomaly": {"max_total_per_hour": 100}})
    found, _ = hourly(db, AccessAnomalyDetector(), Feed(config), [80, 120, 90], T0)
    assert rules(found) == ["access_anomaly.system_volume"]
    assert found[0].detail["trigger"] == "max_total_per_hour"


# --- tool rates and sequences ----------------------------------------------------------------

TOOLS = [("search_orders", False), ("lookup_customer", False), ("issue_refund", True)]


def agent(calls: Sequence[str]) -> dict[str, Any]:
    return {"tool_calls": [{"name": c} for c in calls]}


def usual_agent(rng: random.Random, _: int) -> dict[str, Any]:
    if rng.random() < 0.8:
        return agent(["search_orders", "lookup_customer"])
    return agent(["search_orders", "lookup_customer", "issue_refund"])


def test_a_burst_of_one_tool_is_found(db: Session) -> None:
    config = make_system(db, tools=TOOLS)
    feed = Feed(config)
    detector = ToolRatesDetector()
    found, now = run_batches(
        db, detector, feed, usual_agent, batches=60, size=5, step=timedelta(minutes=1)
    )
    assert found == []
    burst = [agent(["issue_refund"] * 10) for _ in range(20)]
    found = detector.observe(db, feed.batch(now, burst), now)
    assert "tool_misuse.rate" in rules(found)
    rate = next(f for f in found if f.rule == "tool_misuse.rate")
    assert rate.group == "issue_refund" and rate.detail["calls_this_minute"] == 200
    assert rate.detail["destructive"] is True and rate.category == "insecure_behaviour"
    assert len(rate.interaction_ids) == 20


def test_usual_tool_use_raises_nothing(db: Session) -> None:
    config = make_system(db, tools=TOOLS)
    found, _ = run_batches(
        db,
        ToolRatesDetector(),
        Feed(config),
        usual_agent,
        batches=240,
        size=8,
        step=timedelta(seconds=30),
        seed=12,
    )
    assert found == []


def test_a_novel_sequence_with_a_destructive_tool_is_found(db: Session) -> None:
    config = make_system(db, tools=TOOLS)
    feed = Feed(config)
    detector = ToolRatesDetector()
    found, now = run_batches(db, detector, feed, usual_agent, batches=30, size=20)
    assert found == []
    odd = [agent(["lookup_customer", "search_orders"]), agent(["issue_refund"])]
    found = detector.observe(db, feed.batch(now, odd), now)
    # Starting with a refund is new and destructive; lookup → search is new but harmless.
    assert rules(found) == ["tool_misuse.sequence"]
    f = found[0]
    assert f.detail["from"] is None and f.detail["to"] == "issue_refund"
    assert f.detail["seen_before"] == 0 and f.detail["destructive"] == ["issue_refund"]
    assert f.interaction_ids == [feed.next_id - 1]
    # Once is enough while it cools down.
    later = now + timedelta(minutes=1)
    assert detector.observe(db, feed.batch(later, odd), later) == []


def test_novel_sequences_before_warm_up_raise_nothing(db: Session) -> None:
    config = make_system(db, tools=TOOLS)
    feed = Feed(config)
    records = [agent(["issue_refund", "issue_refund"]) for _ in range(10)]
    assert ToolRatesDetector().observe(db, feed.batch(T0, records), T0) == []


# --- all of them -----------------------------------------------------------------------------


def test_stream_detectors_have_their_ids() -> None:
    ids = [d.id for d in STREAM_DETECTORS]
    assert ids == ["drift", "outcome_disparity", "vendor_errors", "access_anomaly", "tool_misuse"]


class Broken:
    """Stages some state, then fails: as a detector with a bug would."""

    id = "broken"

    def observe(self, db: Session, batch: Sequence[Observed], now: datetime) -> list[Finding]:
        rows = load_state(db, self.id, batch[0].config.id)
        rows.put("k", {"half": "written"})
        rows.save(now)
        raise RuntimeError("a bug")


def test_a_failing_detector_loses_neither_the_batch_nor_the_others(
    db: Session, caplog: pytest.LogCaptureFixture
) -> None:
    config = make_system(db, detectors={"access_anomaly": {"users": ["ok-*"]}})
    feed = Feed(config)
    batch = feed.batch(T0, [{"user_id": "intruder"}])
    detectors = (Broken(), *STREAM_DETECTORS)
    found = observe_all(db, batch, T0, detectors)  # type: ignore[arg-type]
    assert rules(found) == ["access_anomaly.unapproved_user"]
    assert "stream detector broken failed" in caplog.text
    assert state_rows(db, "broken", config.id) == {}
    assert "unapproved" in state_rows(db, "access_anomaly", config.id)


class WritesNaN:
    """Stages state that JSON cannot carry: it must be dropped, not fail every batch."""

    id = "writes_nan"

    def observe(self, db: Session, batch: Sequence[Observed], now: datetime) -> list[Finding]:
        rows = load_state(db, self.id, batch[0].config.id)
        rows.put("k", {"mean": float("nan")})
        rows.save(now)
        return [Finding(detector=self.id, rule="writes_nan.x", title="never delivered")]


def test_state_that_json_cannot_carry_is_dropped(
    db: Session, caplog: pytest.LogCaptureFixture
) -> None:
    config = make_system(db)
    batch = Feed(config).batch(T0, [{"latency_ms": 1.0}])
    found = observe_all(db, batch, T0, (WritesNaN(), DriftDetector()))  # type: ignore[arg-type]
    assert found == []
    assert "stream detector writes_nan failed" in caplog.text
    assert state_rows(db, "writes_nan", config.id) == {}
    assert "latency_ms" in state_rows(db, "drift", config.id)


def test_state_rows_saved_twice_on_their_own(db: Session) -> None:
    config = make_system(db)
    rows = load_state(db, "some_detector", config.id)
    rows.put("k", {"v": 1})
    rows.save(T0)
    rows.put("k", {"v": 2})
    rows.put("j", {"v": 3})
    rows.save(T0)
    assert state_rows(db, "some_detector", config.id) == {"k": {"v": 2}, "j": {"v": 3}}
    again = load_state(db, "some_detector", config.id)
    assert again.get("k") == {"v": 2} and len(again) == 2


def test_a_batch_spanning_systems_reaches_each(db: Session) -> None:
    one = make_system(db, "one", detectors={"access_anomaly": {"users": ["x"]}})
    two = make_system(db, "two", detectors={"access_anomaly": {"users": ["y"]}})
    batch = Feed(one).batch(T0, [{"user_id": "y"}]) + Feed(two).batch(T0, [{"user_id": "x"}])
    found = observe_all(db, batch, T0)
    assert sorted((f.system_id, f.group) for f in found) == [(one.id, "y"), (two.id, "x")]


def test_concurrent_batches_for_one_system_do_not_lose_updates(app: FastAPI, db: Session) -> None:
    # The warm-up is never reached, so every value lands in the baseline count.
    config = make_system(db, detectors={"drift": {"warmup": 100_000}})
    db.commit()
    errors: list[BaseException] = []

    def worker(offset: int) -> None:
        try:
            feed = Feed(config)
            feed.next_id = offset
            for b in range(10):
                with app.state.sessionmaker() as session:
                    now = T0 + timedelta(seconds=b)
                    batch = feed.batch(now, [{"latency_ms": 100.0}] * 20)
                    observe_all(session, batch, now)
                    session.commit()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i * 1000,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with app.state.sessionmaker() as session:
        assert state_rows(session, "drift", config.id)["latency_ms"]["b"]["n"] == 3 * 10 * 20
