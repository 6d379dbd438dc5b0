"""The streaming statistics the stream detectors stand on: pure, so tested exhaustively here."""

from __future__ import annotations

import json
import math
import random
import statistics
from collections.abc import Callable
from datetime import datetime
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firestop.detect.stats import (
    Baseline,
    Cusum,
    HeavyHitters,
    ShiftDetector,
    ShiftParams,
    Summary,
    WindowCounter,
    bernoulli_llr,
    clip,
    fisher_exact,
    four_fifths,
    gaussian_llr,
    impact_ratio,
    most_extreme,
    normal_sf,
    summarise,
    two_proportion_test,
)
from firestop.detect.stream_state import check_json

finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)
# Statistical properties are checked on fixed seeds chosen by Hypothesis: reproducible in CI.
seeded = settings(derandomize=True, max_examples=25, deadline=None)


def roundtrip(data: dict[str, object]) -> dict[str, object]:
    """Through JSON, as a DetectorState row stores it."""
    result: dict[str, object] = json.loads(json.dumps(data, allow_nan=False))
    return result


# --- summaries and baselines -------------------------------------------------------------


@given(st.lists(finite, min_size=1, max_size=200))
def test_summarise_matches_the_textbook(values: list[float]) -> None:
    s = summarise(values)
    assert s.n == len(values)
    assert s.mean == pytest.approx(statistics.fmean(values), rel=1e-9, abs=1e-6)
    assert s.var == pytest.approx(statistics.pvariance(values), rel=1e-6, abs=1e-3)
    assert s.var >= 0


def test_summarise_keeps_the_variance_of_values_far_from_zero() -> None:
    values = [1e9 + x for x in (1.0, 2.0, 3.0, 4.0)]
    assert summarise(values).var == pytest.approx(1.25)


def test_clip_winsorises() -> None:
    assert clip([-5.0, 0.5, 9.0], 0.0, 1.0) == [0.0, 0.5, 1.0]


@given(st.lists(st.lists(finite, min_size=1, max_size=20), min_size=1, max_size=20))
def test_baseline_from_batches_equals_the_whole_without_memory(batches: list[list[float]]) -> None:
    b = Baseline()
    for batch in batches:
        b.add_summary(summarise(batch))
    everything = [x for batch in batches for x in batch]
    assert b.n == len(everything)
    assert b.mean == pytest.approx(statistics.fmean(everything), rel=1e-9, abs=1e-6)
    assert b.var == pytest.approx(statistics.pvariance(everything), rel=1e-6, abs=1e-2)


def test_baseline_with_memory_forgets_the_old_level() -> None:
    b = Baseline()
    for _ in range(1000):
        b.add(0.0, memory=100)
    for _ in range(1000):
        b.add(10.0, memory=100)
    assert b.mean == pytest.approx(10.0, abs=0.01)
    # Without memory it is the plain mean of everything.
    plain = Baseline()
    for x in [0.0] * 1000 + [10.0] * 1000:
        plain.add(x)
    assert plain.mean == pytest.approx(5.0)


@given(st.integers(0, 10**9), finite, st.floats(0, 1e6))
def test_baseline_round_trip(n: int, mean: float, var: float) -> None:
    b = Baseline(n, mean, var)
    again = Baseline.from_dict(roundtrip(b.to_dict()))
    assert (again.n, again.mean, again.var) == (n, mean, var)


# --- likelihood ratios and CUSUM ------------------------------------------------------------


@given(st.lists(finite, min_size=1, max_size=50), finite, st.floats(0.1, 100), st.floats(0.1, 2))
def test_gaussian_llr_of_a_batch_is_the_sum_over_its_values(
    values: list[float], mean: float, sd: float, shift: float
) -> None:
    up, down = gaussian_llr(summarise(values), mean, sd, shift)
    singles = [gaussian_llr(Summary(1, x, 0.0), mean, sd, shift) for x in values]
    assert up == pytest.approx(sum(u for u, _ in singles), rel=1e-6, abs=1e-6)
    assert down == pytest.approx(sum(d for _, d in singles), rel=1e-6, abs=1e-6)


@given(st.integers(1, 500), st.floats(1e-4, 1 - 1e-4), st.floats(0.1, 2), st.data())
def test_bernoulli_llr_adds_up_and_is_finite(
    count: int, p0: float, shift: float, data: st.DataObject
) -> None:
    events = data.draw(st.integers(0, count))
    up, down = bernoulli_llr(count, events, p0, shift)
    assert math.isfinite(up) and math.isfinite(down)
    hit_up, hit_down = bernoulli_llr(1, 1, p0, shift)
    miss_up, miss_down = bernoulli_llr(1, 0, p0, shift)
    assert up == pytest.approx(events * hit_up + (count - events) * miss_up, rel=1e-9, abs=1e-9)
    assert down == pytest.approx(
        events * hit_down + (count - events) * miss_down, rel=1e-9, abs=1e-9
    )
    # An event is evidence for a higher rate, a non-event for a lower one.
    assert hit_up > 0 > miss_up and hit_down < 0 < miss_down


def test_cusum_alarms_on_the_side_that_crossed_and_remembers_where_it_began() -> None:
    c = Cusum()
    assert c.update(-1.0, -1.0, 10, 10.0, at=1.0, h=5.0) == 0
    assert c.up == 0.0 and c.down == 0.0
    assert c.update(2.0, -3.0, 10, 50.0, at=2.0, h=5.0) == 0
    assert c.update(1.5, -3.0, 10, 60.0, at=3.0, h=5.0) == 0
    assert c.update(2.0, -3.0, 10, 70.0, at=4.0, h=5.0) == 1
    assert (c.up_n, c.up_sum, c.up_since) == (30, 180.0, 2.0)
    d = Cusum()
    assert d.update(-3.0, 6.0, 5, 1.0, at=7.0, h=5.0) == -1


def test_cusum_restarts_the_excursion_at_a_batch_that_outweighs_it() -> None:
    # A little noise, then a sharp step: the change began with the step, not the noise.
    c = Cusum()
    assert c.update(0.5, -1.0, 50, 5000.0, at=1.0, h=18.0) == 0
    assert c.update(25.0, -30.0, 20, 2600.0, at=2.0, h=18.0) == 1
    assert (c.up, c.up_n, c.up_sum, c.up_since) == (25.5, 20, 2600.0, 2.0)


cusum_values = st.floats(0, 1e4, allow_nan=False)


@given(cusum_values, cusum_values, st.integers(0, 10**6), finite, st.floats(0, 1e9))
def test_cusum_round_trip(up: float, down: float, n: int, total: float, at: float) -> None:
    c = Cusum()
    c.update(up, down, n, total, at, h=math.inf)
    again = Cusum.from_dict(roundtrip(c.to_dict()))
    assert again.to_dict() == c.to_dict()


# --- the shift detector ---------------------------------------------------------------------


def feed_normal(
    d: ShiftDetector,
    rng: random.Random,
    n: int,
    p: ShiftParams,
    *,
    mean: float = 100.0,
    sd: float = 10.0,
    start: int = 0,
    max_batch: int = 50,
) -> list[tuple[int, object]]:
    """Feeds ``n`` values in random batches; returns (values seen when it alarmed, alarm)."""
    alarms = []
    i = 0
    while i < n:
        size = min(rng.randint(1, max_batch), n - i)
        batch = [rng.gauss(mean, sd) for _ in range(size)]
        i += size
        alarm = d.observe(batch, float(start + i), p)
        if alarm is not None:
            alarms.append((start + i, alarm))
    return alarms


def feed_rate(
    d: ShiftDetector,
    rng: random.Random,
    n: int,
    p: ShiftParams,
    rate: float,
    *,
    start: int = 0,
) -> list[tuple[int, object]]:
    alarms = []
    i = 0
    while i < n:
        size = min(rng.randint(1, 50), n - i)
        events = sum(rng.random() < rate for _ in range(size))
        i += size
        alarm = d.observe_events(size, events, float(start + i), p)
        if alarm is not None:
            alarms.append((start + i, alarm))
    return alarms


NO_COOLDOWN = ShiftParams(cooldown=0.0)


@seeded
@given(st.integers(0, 2**32))
def test_stationary_noise_does_not_alarm(seed: int) -> None:
    rng = random.Random(seed)
    d = ShiftDetector("normal")
    assert feed_normal(d, rng, 20_000, NO_COOLDOWN) == []


@seeded
@given(st.integers(0, 2**32))
def test_stationary_heavy_tailed_noise_does_not_alarm(seed: int) -> None:
    rng = random.Random(seed)
    d = ShiftDetector("normal")
    i = 0
    while i < 20_000:
        batch = [rng.lognormvariate(6.0, 1.0) for _ in range(rng.randint(1, 50))]
        i += len(batch)
        assert d.observe(batch, float(i), NO_COOLDOWN) is None


@seeded
@given(st.integers(0, 2**32), st.sampled_from([0.0, 0.001, 0.02, 0.3]))
def test_stationary_rates_do_not_alarm(seed: int, rate: float) -> None:
    rng = random.Random(seed)
    d = ShiftDetector("bernoulli")
    assert feed_rate(d, rng, 20_000, NO_COOLDOWN, rate) == []


@seeded
@given(st.integers(0, 2**32), st.sampled_from([1.0, -1.0, 3.0]))
def test_a_step_alarms_soon_in_its_direction(seed: int, step_sd: float) -> None:
    rng = random.Random(seed)
    d = ShiftDetector("normal")
    assert feed_normal(d, rng, 1000, NO_COOLDOWN) == []
    alarms = feed_normal(d, rng, 400, NO_COOLDOWN, mean=100.0 + 10.0 * step_sd, start=1000)
    assert alarms, "a one standard deviation step must be found within 400 values"
    at, alarm = alarms[0]
    assert at - 1000 <= 400
    assert alarm.direction == (1 if step_sd > 0 else -1)  # type: ignore[attr-defined]
    assert alarm.baseline_mean == pytest.approx(100.0, abs=3.0)  # type: ignore[attr-defined]
    assert alarm.current_mean == pytest.approx(100 + 10 * step_sd, abs=6.0)  # type: ignore[attr-defined]


@seeded
@given(st.integers(0, 2**32))
def test_a_rate_step_alarms(seed: int) -> None:
    rng = random.Random(seed)
    d = ShiftDetector("bernoulli")
    assert feed_rate(d, rng, 3000, NO_COOLDOWN, 0.01) == []
    alarms = feed_rate(d, rng, 1000, NO_COOLDOWN, 0.2, start=3000)
    assert alarms and alarms[0][0] - 3000 <= 300
    assert alarms[0][1].direction == 1  # type: ignore[attr-defined]


@seeded
@given(st.integers(0, 2**32))
def test_a_moderate_rate_rise_on_a_settled_baseline_alarms(seed: int) -> None:
    # 1% → 5%: far below any absolute threshold, and slow enough that a baseline which
    # learned at once would have absorbed it before the evidence was in.
    rng = random.Random(seed)
    d = ShiftDetector("bernoulli")
    assert feed_rate(d, rng, 3000, NO_COOLDOWN, 0.01) == []
    assert feed_rate(d, rng, 5000, NO_COOLDOWN, 0.05, start=3000)


def test_one_lasting_shift_gives_one_alarm() -> None:
    rng = random.Random(7)
    d = ShiftDetector("normal")
    p = ShiftParams()  # with the default cool-down
    feed_normal(d, rng, 1000, p)
    alarms = feed_normal(d, rng, 20_000, p, mean=130.0, start=1000)
    assert len(alarms) == 1


def test_cooldown_silences_a_second_shift_and_then_lets_it_through() -> None:
    p = ShiftParams(cooldown=1e6)
    rng = random.Random(3)
    d = ShiftDetector("normal")
    feed_normal(d, rng, 1000, p)
    assert len(feed_normal(d, rng, 2000, p, mean=150.0, start=1000)) == 1
    # A second shift inside the cool-down: re-baselined silently.
    assert feed_normal(d, rng, 2000, p, mean=200.0, start=3000) == []
    # After it: reported again.
    assert len(feed_normal(d, rng, 2000, p, mean=100.0, start=2_000_000)) == 1


def test_constant_series_still_sees_a_change() -> None:
    d = ShiftDetector("normal")
    p = NO_COOLDOWN
    for t in range(10):
        assert d.observe([1.0] * 100, float(t), p) is None
    alarm = None
    for t in range(10, 20):
        alarm = alarm or d.observe([1.0] * 80 + [0.0] * 20, float(t), p)
    assert alarm is not None and alarm.direction == -1


@seeded
@given(st.integers(0, 2**32), st.sampled_from(["normal", "bernoulli"]), st.integers(1, 3000))
def test_detector_round_trip_continues_identically(seed: int, kind: str, cut: int) -> None:
    rng = random.Random(seed)
    p = NO_COOLDOWN
    a = ShiftDetector(kind)  # type: ignore[arg-type]
    batches = []
    for i in range(120):
        mean = 100.0 if i < 60 else 115.0
        batches.append([rng.gauss(mean, 10.0) for _ in range(rng.randint(1, 50))])
    split = min(cut // 30, len(batches))

    def step(d: ShiftDetector, i: int, batch: list[float]) -> object:
        if kind == "normal":
            return d.observe(batch, float(i), p)
        return d.observe_events(len(batch), sum(x > 110 for x in batch), float(i), p)

    for i, batch in enumerate(batches[:split]):
        step(a, i, batch)
    b = ShiftDetector.from_dict(roundtrip(a.to_dict()))
    assert b.to_dict() == a.to_dict()
    for i, batch in enumerate(batches[split:], start=split):
        assert step(a, i, batch) == step(b, i, batch)
    assert a.to_dict() == b.to_dict()


junk = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=3), children, max_size=3)
    ),
    max_leaves=10,
)


@given(st.dictionaries(st.sampled_from(["k", "b", "p", "c", "q", "n", "m", "v"]), junk))
def test_unreadable_state_starts_over_instead_of_failing(data: dict[str, object]) -> None:
    d = ShiftDetector.from_dict(data)
    json.dumps(d.to_dict(), allow_nan=False)
    d.observe([1.0, 2.0], 0.0, ShiftParams())


# --- windows and heavy hitters --------------------------------------------------------------


events = st.lists(
    st.tuples(st.integers(0, 3600), st.sampled_from(["a", "b", "c"]), st.integers(0, 5)),
    max_size=60,
)


@given(events)
def test_window_totals_are_the_sum_of_recent_buckets(adds: list[tuple[int, str, int]]) -> None:
    w = WindowCounter(width=60, span=5, fields=2)
    adds = sorted(adds)
    for at, key, c in adds:
        w.add(at, key, (c, 1))
    if not adds:
        return
    now = adds[-1][0]
    expected: dict[str, list[int]] = {}
    for at, key, c in adds:
        if at // 60 > now // 60 - 5:
            acc = expected.setdefault(key, [0, 0])
            acc[0] += c
            acc[1] += 1
    assert w.totals(now) == expected
    assert len(w.buckets) <= 5
    again = WindowCounter.from_dict(roundtrip(w.to_dict()), width=60, span=5, fields=2)
    assert again.totals(now) == expected


def test_window_forgets_old_buckets_and_ignores_a_changed_shape() -> None:
    w = WindowCounter(width=60, span=5, fields=1)
    w.add(0, "x", (3,))
    w.add(250, "x", (4,))
    assert w.totals(250) == {"x": [7]}
    assert w.totals(300) == {"x": [4]}
    assert w.buckets.keys() == {4}
    changed = WindowCounter.from_dict(w.to_dict(), width=30, span=5, fields=1)
    assert changed.totals(300) == {}
    with pytest.raises(ValueError):
        w.add(300, "x", (1, 2))


@given(st.lists(st.sampled_from([f"u{i}" for i in range(30)]), max_size=400), st.integers(1, 10))
def test_heavy_hitters_never_overstate_and_miss_by_little(names: list[str], capacity: int) -> None:
    h = HeavyHitters(capacity)
    # In batches, as the detector merges them.
    for i in range(0, len(names), 17):
        batch: dict[str, int] = {}
        for n in names[i : i + 17]:
            batch[n] = batch.get(n, 0) + 1
        h.merge(batch)
    assert len(h.counts) <= capacity
    slack = len(names) / (capacity + 1)
    for name in set(names):
        true = names.count(name)
        assert true - slack <= h.estimate(name) <= true
    again = HeavyHitters.from_dict(roundtrip(h.to_dict()), capacity=capacity)
    assert again.counts == h.counts and again.total == h.total


# --- tests for two groups --------------------------------------------------------------------


def test_normal_tail() -> None:
    assert normal_sf(0.0) == pytest.approx(0.5)
    assert normal_sf(1.959964) == pytest.approx(0.025, rel=1e-5)
    assert normal_sf(-1.959964) == pytest.approx(0.975, rel=1e-5)
    assert normal_sf(10.0) == pytest.approx(7.62e-24, rel=1e-2)


def exact_fisher(a: int, b: int, c: int, d: int) -> float:
    """A slow reference in exact rational arithmetic."""
    row1, row2, col1 = a + b, c + d, a + c
    total = math.comb(row1 + row2, col1)

    def prob(x: int) -> Fraction:
        return Fraction(math.comb(row1, x) * math.comb(row2, col1 - x), total)

    observed = prob(a)
    lo, hi = max(0, col1 - row2), min(col1, row1)
    return float(sum(prob(x) for x in range(lo, hi + 1) if prob(x) <= observed))


def test_fisher_tea_tasting() -> None:
    # Fisher's lady tasting tea: 3 of 4 cups right; the classic two-sided p is 34/70.
    assert fisher_exact(3, 1, 1, 3) == pytest.approx(34 / 70)


@given(st.integers(0, 25), st.integers(0, 25), st.integers(0, 25), st.integers(0, 25))
def test_fisher_matches_exact_arithmetic(a: int, b: int, c: int, d: int) -> None:
    if a + b + c + d == 0:
        assert fisher_exact(a, b, c, d) == 1.0
        return
    assert fisher_exact(a, b, c, d) == pytest.approx(exact_fisher(a, b, c, d), rel=1e-6)


def test_two_proportion_z_test() -> None:
    # 120/200 against 80/200: pooled 0.5, se 0.05, z = 4.
    assert two_proportion_test(120, 200, 80, 200) == pytest.approx(2 * normal_sf(4.0))
    assert two_proportion_test(100, 200, 100, 200) == pytest.approx(1.0)
    # Small counts go to Fisher's test.
    assert two_proportion_test(3, 4, 1, 4) == pytest.approx(fisher_exact(3, 1, 1, 3))
    with pytest.raises(ValueError):
        two_proportion_test(5, 4, 1, 4)


@given(st.integers(0, 300), st.integers(1, 300), st.integers(0, 300), st.integers(1, 300))
def test_two_proportion_test_is_symmetric_and_a_probability(
    x1: int, n1: int, x2: int, n2: int
) -> None:
    x1, x2 = min(x1, n1), min(x2, n2)
    p = two_proportion_test(x1, n1, x2, n2)
    assert 0.0 <= p <= 1.0
    assert p == pytest.approx(two_proportion_test(x2, n2, x1, n1))


def test_four_fifths() -> None:
    assert impact_ratio(0.3, 0.6) == 0.5
    assert impact_ratio(0.0, 0.0) == 1.0
    assert four_fifths({"a": 0.5}) is None
    e = four_fifths({"a": 0.6, "b": 0.3, "c": 0.5})
    assert e is not None and (e.low, e.high, e.ratio) == ("b", "a", 0.5)
    tie = four_fifths({"y": 0.5, "x": 0.5})
    assert tie is not None and tie.ratio == 1.0


def test_most_extreme() -> None:
    values = [5.0, 1.0, 9.0, 7.0]
    ids = [10, 11, 12, 13]
    assert most_extreme(values, ids, 1, limit=2) == [12, 13]
    assert most_extreme(values, ids, -1, limit=2) == [10, 11]


# -- the JSON check on stream state -----------------------------------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats()  # NaN and infinities included
    | st.text(),  # lone surrogates included
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=4) | st.integers(), inner, max_size=4)
    ),
    max_leaves=12,
)


def _verdict(check: Callable[[Any], object], value: Any) -> type[BaseException] | None:
    try:
        check(value)
    except (TypeError, ValueError) as exc:
        return ValueError if isinstance(exc, ValueError) else TypeError
    return None


@given(json_values)
def test_the_state_check_agrees_with_the_standard_library(value: Any) -> None:
    def standard(v: Any) -> object:
        return json.dumps(v, allow_nan=False)

    assert _verdict(check_json, value) == _verdict(standard, value)


def test_the_state_check_refuses_what_the_standard_library_refuses() -> None:
    for bad in ({"x": math.nan}, {"x": [math.inf]}, {"x": datetime(2026, 1, 1)}, {"x": {1, 2}}):
        with pytest.raises((TypeError, ValueError)):
            check_json(bad)
    check_json({"a": [1, 2.5, "\ud800", None, True], 3: 2**80})
