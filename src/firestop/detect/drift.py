"""Drift and degradation (D3): a sustained shift in a system's technical or business metrics.

Each series of a system keeps a baseline and a two-sided CUSUM (``stats.ShiftDetector``) in a
``DetectorState`` row keyed by the series name. The series:

==========================  ====================================================  =============
series                      one value per …                                       category
==========================  ====================================================  =============
``latency_ms``              interaction with a latency                            availability
``input_tokens``            interaction with usage                                availability
``output_tokens``           interaction with usage                                availability
``error_rate``              interaction: 1 if status is error or timeout          availability
``refusal_rate``            interaction: 1 if refused or finish_reason            harmful_output
                            ``content_filter``
``feedback.thumbs_down``    thumbs feedback: 1 if down (false, 0, -1, "down" …)   harmful_output
``feedback.rating``         rating feedback with a numeric value                  harmful_output
``eval.<name>``             interaction attribute ``eval.<name>`` with a number   harmful_output
                            (an evaluator's score: groundedness, toxicity …)
``metric.<name>``           value posted to ``/api/v1/metrics`` (see metrics.py)  harmful_output
==========================  ====================================================  =============

Rates are watched as Bernoulli series, the rest as Gaussian-like ones (winsorised, so a single
absurd value cannot trip them). Settings (policy ``detection.defaults.drift`` or the system's
own): ``warmup`` (200 values before a series is watched), ``metric_warmup`` (30: posted metrics
arrive far less often), ``memory`` (10000), ``shift`` (0.5 standard deviations),
``threshold`` (18), ``cooldown_minutes`` (60), ``max_series`` (50 ``eval.``/``metric.``
series per system; more are ignored) and ``categories`` ({series: category id} overrides).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import NamedTuple, cast

from sqlalchemy.orm import Session

from firestop.detect.base import Finding, Observed, SystemConfig
from firestop.detect.stats import Alarm, ShiftDetector, ShiftParams, most_extreme
from firestop.detect.stream_state import (
    MAX_EXAMPLES,
    by_system,
    load_state,
    setting_float,
    setting_int,
)
from firestop.ledger.schemas import InteractionIn

log = logging.getLogger(__name__)

ID = "drift"

LATENCY = "latency_ms"
INPUT_TOKENS = "input_tokens"
OUTPUT_TOKENS = "output_tokens"
ERROR_RATE = "error_rate"
REFUSAL_RATE = "refusal_rate"
THUMBS_DOWN = "feedback.thumbs_down"
RATING = "feedback.rating"
EVAL_PREFIX = "eval."  # five characters, as collect() relies on
METRIC_PREFIX = "metric."

BUILT_IN = (LATENCY, INPUT_TOKENS, OUTPUT_TOKENS, ERROR_RATE, REFUSAL_RATE, THUMBS_DOWN, RATING)
_AVAILABILITY = frozenset({LATENCY, INPUT_TOKENS, OUTPUT_TOKENS, ERROR_RATE})
_LABELS = {
    LATENCY: "Latency (ms)",
    INPUT_TOKENS: "Input tokens per interaction",
    OUTPUT_TOKENS: "Output tokens per interaction",
    ERROR_RATE: "Error and timeout rate",
    REFUSAL_RATE: "Refusal rate",
    THUMBS_DOWN: "Share of thumbs-down feedback",
    RATING: "Mean feedback rating",
}
_RATES = frozenset({ERROR_RATE, REFUSAL_RATE, THUMBS_DOWN})
_THUMBS_DOWN = frozenset(
    {"down", "thumbs_down", "thumbsdown", "negative", "-1", "0", "false", "no"}
)
_THUMBS_UP = frozenset({"up", "thumbs_up", "thumbsup", "positive", "1", "+1", "true", "yes"})
# Scores beyond this are not scores; they would also overflow the variance's squares.
_LIMIT = 1e15
# The longest series name whose rule, "drift.<series>", fits the 200 characters findings and
# signals keep for a rule; longer evaluation keys are not watched.
_MAX_NAME = 200 - len(ID) - 1


def thumbs_down(value: object) -> bool | None:
    """Whether a thumbs feedback value means "down"; None when it cannot be read."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int | float):
        return value <= 0 if math.isfinite(value) else None
    if isinstance(value, str):
        v = value.strip().lower()
        if v in _THUMBS_DOWN:
            return True
        if v in _THUMBS_UP:
            return False
    return None


def number(value: object) -> float | None:
    """A finite number of sensible size, or None (booleans and numeric strings are not)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    f = float(value)
    return f if math.isfinite(f) and -_LIMIT <= f <= _LIMIT else None


_NUMERIC = frozenset({int, float})  # exactly: bool, a subclass of int, is not a score


class Collected(NamedTuple):
    normal: dict[str, list[float]]  # Gaussian-like series: their values in the batch
    rates: dict[str, tuple[int, int]]  # rates: (trials, events)


def collect(items: Sequence[Observed]) -> Collected:
    """One pass over the batch: every series' values. It runs for every interaction ingested,
    so it is kept flat and keeps only values; an alarm's example interactions are found
    again afterwards (``examples``), which is rare."""
    latency: list[float] = []
    inputs: list[float] = []
    outputs: list[float] = []
    ratings: list[float] = []
    evals: dict[str, list[float]] = {}
    errors = refusals = thumbs = downs = 0
    for ob in items:
        r = ob.record
        v = r.latency_ms
        if v is not None:
            latency.append(v)
        u = r.usage
        if u is not None:
            t = u.input_tokens
            if t is not None:
                inputs.append(t)
            t = u.output_tokens
            if t is not None:
                outputs.append(t)
        st = r.status
        if st != "ok":
            if st == "refused":
                refusals += 1
            else:
                errors += 1
        elif r.finish_reason == "content_filter":
            refusals += 1
        if r.feedback:
            for fb in r.feedback:
                if fb.kind == "thumbs":
                    down = thumbs_down(fb.value)
                    if down is not None:
                        thumbs += 1
                        downs += down
                elif fb.kind == "rating":
                    x = number(fb.value)
                    if x is not None:
                        ratings.append(x)
        attrs = r.attributes
        if attrs:
            for key in attrs:
                # A slice against a literal: the cheapest prefix test, and most keys fail it.
                if key[:5] != "eval.":
                    continue
                a = attrs[key]
                if a.__class__ not in _NUMERIC:
                    continue
                x = cast(float, a)
                # NaN fails both comparisons and infinity the bound: both are left out.
                if -_LIMIT <= x <= _LIMIT and len(EVAL_PREFIX) < len(key) <= _MAX_NAME:
                    values = evals.get(key)
                    if values is None:
                        values = evals[key] = []
                    values.append(x)
    n = len(items)
    normal = {LATENCY: latency, INPUT_TOKENS: inputs, OUTPUT_TOKENS: outputs, RATING: ratings}
    normal.update(evals)
    return Collected(
        {k: v for k, v in normal.items() if v},
        {ERROR_RATE: (n, errors), REFUSAL_RATE: (n, refusals), THUMBS_DOWN: (thumbs, downs)},
    )


def series_values(record: InteractionIn) -> Iterator[tuple[str, float]]:
    """Each (series, value) one interaction adds: what ``collect`` gathers, written plainly.
    Rates give 1.0 for an event and 0.0 for a trial without one."""
    if record.latency_ms is not None:
        yield LATENCY, record.latency_ms
    if record.usage is not None:
        if record.usage.input_tokens is not None:
            yield INPUT_TOKENS, record.usage.input_tokens
        if record.usage.output_tokens is not None:
            yield OUTPUT_TOKENS, record.usage.output_tokens
    failed = record.status in ("error", "timeout")
    refused = record.status == "refused" or (
        record.status == "ok" and record.finish_reason == "content_filter"
    )
    yield ERROR_RATE, float(failed)
    yield REFUSAL_RATE, float(refused)
    for fb in record.feedback:
        if fb.kind == "thumbs":
            down = thumbs_down(fb.value)
            if down is not None:
                yield THUMBS_DOWN, float(down)
        elif fb.kind == "rating":
            x = number(fb.value)
            if x is not None:
                yield RATING, x
    for key, a in record.attributes.items():
        if key.startswith(EVAL_PREFIX) and len(EVAL_PREFIX) < len(key) <= _MAX_NAME:
            x = number(a)
            if x is not None:
                yield key, x


def examples(items: Sequence[Observed], series: str, direction: int) -> list[int]:
    """The interactions that best show an alarm: the most extreme values in its direction,
    or, for a rate, those with the event (rising) or without it (falling)."""
    values: list[float] = []
    ids: list[int] = []
    for ob in items:
        for name, x in series_values(ob.record):
            if name == series:
                values.append(x)
                ids.append(ob.interaction_id)
    if series in _RATES:
        wanted = 1.0 if direction > 0 else 0.0
        return [i for x, i in zip(values, ids, strict=True) if x == wanted][:MAX_EXAMPLES]
    return most_extreme(values, ids, direction, MAX_EXAMPLES)


def params(
    config: SystemConfig, *, warmup_setting: str = "warmup", warmup: int = 200
) -> ShiftParams:
    return ShiftParams(
        warmup=setting_int(config, ID, warmup_setting, warmup),
        memory=setting_int(config, ID, "memory", 10_000),
        shift=setting_float(config, ID, "shift", 0.5, lo=1e-3),
        threshold=setting_float(config, ID, "threshold", 18.0, lo=1.0),
        cooldown=setting_float(config, ID, "cooldown_minutes", 60.0) * 60.0,
    )


def category(config: SystemConfig, series: str) -> str:
    overrides = config.setting(ID, "categories", None)
    if isinstance(overrides, Mapping):
        chosen = overrides.get(series)
        if isinstance(chosen, str) and chosen:
            return chosen
    return "availability" if series in _AVAILABILITY else "harmful_output"


def _label(series: str) -> str:
    if series in _LABELS:
        return _LABELS[series]
    if series.startswith(EVAL_PREFIX):
        return f"Evaluation score {series[len(EVAL_PREFIX) :]}"
    return f"Metric {series[len(METRIC_PREFIX) :]}"


def _show(x: float, rate: bool) -> str:
    return f"{x:.1%}" if rate else f"{x:,.4g}"


def finding(
    config: SystemConfig, series: str, alarm: Alarm, ids: list[int], source: str
) -> Finding:
    rate = series in _RATES
    up = alarm.direction > 0
    title = (
        f"{_label(series)} {'rose' if up else 'fell'} from "
        f"{_show(alarm.baseline_mean, rate)} to {_show(alarm.current_mean, rate)}"
    )
    return Finding(
        detector=ID,
        rule=f"{ID}.{series}",
        title=title[:200],
        severity="SEV3",
        category=category(config, series),
        group="up" if up else "down",
        detail={
            "series": series,
            "direction": "up" if up else "down",
            "baseline_mean": round(alarm.baseline_mean, 6),
            "baseline_sd": round(alarm.baseline_sd, 6),
            "baseline_samples": alarm.baseline_samples,
            "current_mean": round(alarm.current_mean, 6),
            "samples": alarm.samples,
            "since": datetime.fromtimestamp(alarm.since, UTC).isoformat(),
            "source": source,
        },
        interaction_ids=ids,
        system_id=config.id,
    )


class _Series:
    """The batch's state rows for one system, with the cap on dynamic series."""

    def __init__(self, db: Session, config: SystemConfig) -> None:
        self.rows = load_state(db, ID, config.id)
        self.cap = setting_int(config, ID, "max_series", 50)
        self.dynamic = sum(1 for k in self.rows.names() if k not in BUILT_IN)
        self.slug = config.slug

    def load(self, name: str, kind: str) -> ShiftDetector | None:
        state = self.rows.get(name)
        if state is not None:
            return ShiftDetector.from_dict(state)
        if name not in BUILT_IN:
            if self.dynamic >= self.cap:
                log.warning(
                    "drift: %s has %d series already; %s is ignored", self.slug, self.cap, name
                )
                return None
            self.dynamic += 1
        return ShiftDetector("bernoulli" if kind == "bernoulli" else "normal")

    def keep(self, name: str, detector: ShiftDetector) -> None:
        self.rows.put(name, detector.to_dict())


class DriftDetector:
    id = ID

    def observe(self, db: Session, batch: Sequence[Observed], now: datetime) -> list[Finding]:
        findings: list[Finding] = []
        at = now.timestamp()
        for config, items in by_system(batch, ID):
            collected = collect(items)
            p = params(config)
            store = _Series(db, config)
            alarms: list[tuple[str, Alarm]] = []
            for name, values in collected.normal.items():
                detector = store.load(name, "normal")
                if detector is not None:
                    alarm = detector.observe(values, at, p)
                    store.keep(name, detector)
                    if alarm is not None:
                        alarms.append((name, alarm))
            for name, (trials, events) in collected.rates.items():
                if trials == 0:
                    continue
                detector = store.load(name, "bernoulli")
                if detector is not None:
                    alarm = detector.observe_events(trials, events, at, p)
                    store.keep(name, detector)
                    if alarm is not None:
                        alarms.append((name, alarm))
            store.rows.save(now)
            for name, alarm in alarms:
                ids = examples(items, name, alarm.direction)
                findings.append(finding(config, name, alarm, ids, "interactions"))
        return findings

    def observe_metrics(
        self,
        db: Session,
        config: SystemConfig,
        series: Mapping[str, Sequence[float]],
        now: datetime,
    ) -> list[Finding]:
        """Values posted for named metrics (business or technical), oldest first per name."""
        if not config.enabled(ID) or not series:
            return []
        at = now.timestamp()
        p = params(config, warmup_setting="metric_warmup", warmup=30)
        store = _Series(db, config)
        findings: list[Finding] = []
        for name in sorted(series):
            values = [v for v in series[name] if math.isfinite(v)]
            if not values:
                continue
            key = f"{METRIC_PREFIX}{name}"
            detector = store.load(key, "normal")
            if detector is None:
                continue
            alarm = detector.observe(values, at, p)
            store.keep(key, detector)
            if alarm is not None:
                findings.append(finding(config, key, alarm, [], "metrics"))
        store.rows.save(now)
        return findings
