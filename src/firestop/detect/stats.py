"""Streaming statistics for the stream detectors: baselines, change detection, windows, tests.

Everything here is pure (no database, no clock) and every stateful piece turns into a small
JSON-ready dict and back, because the detectors keep it in ``DetectorState`` rows between
batches. The detectors aggregate a batch first and hand these classes batch *summaries*
(count, mean, variance; or count and events), so the arithmetic per interaction stays in the
detectors' own tight loops and the work here is per batch.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

Kind = Literal["normal", "bernoulli"]


def _float(value: Any, default: float = 0.0) -> float:
    """A finite float from stored state, or the default when the stored value is unusable."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return default
    f = float(value)
    return f if math.isfinite(f) else default


def _int(value: Any, default: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        return default
    return value


# --- batch summaries -------------------------------------------------------------------------


class Summary(NamedTuple):
    n: int
    mean: float
    var: float  # population variance of the batch


def summarise(values: Sequence[float]) -> Summary:
    """Count, mean and variance of a batch in two C-speed passes.

    Values are shifted by the first one before squaring so that a series far from zero (a
    timestamp-like metric) does not lose its variance to cancellation.
    """
    n = len(values)
    if n == 0:
        return Summary(0, 0.0, 0.0)
    pivot = values[0]
    shifted = [v - pivot for v in values]
    s = sum(shifted)
    ss = sum(map(operator.mul, shifted, shifted))
    m = s / n
    return Summary(n, pivot + m, max(0.0, ss / n - m * m))


def clip(values: Sequence[float], lo: float, hi: float) -> list[float]:
    """Values winsorised to [lo, hi], so that one absurd value cannot decide a change alone."""
    return [lo if v < lo else hi if v > hi else v for v in values]


# --- baseline --------------------------------------------------------------------------------


class Baseline:
    """Mean and variance of a series: exact (Welford) while young, exponentially weighted after.

    A batch summary of ``count`` values gets the weight ``count / n`` (which makes the first
    ``memory`` values an exact running mean and variance, order aside) or, once that falls
    below it, the weight ``count`` values would have under exponential decay with a mean age
    of ``memory`` values. So the baseline follows slow seasonal movement while one batch can
    never drag it far.
    """

    __slots__ = ("mean", "n", "var")

    def __init__(self, n: int = 0, mean: float = 0.0, var: float = 0.0) -> None:
        self.n = n
        self.mean = mean
        self.var = var

    @property
    def sd(self) -> float:
        return math.sqrt(self.var)

    def ready(self, warmup: int) -> bool:
        return self.n >= warmup

    def add(self, x: float, memory: int = 0) -> None:
        self.add_summary(Summary(1, x, 0.0), memory)

    def add_summary(self, batch: Summary, memory: int = 0) -> None:
        count, mean, var = batch
        if count <= 0:
            return
        total = self.n + count
        w = count / total
        if memory > 0:
            decayed = 1.0 - (1.0 - 1.0 / memory) ** count
            if decayed > w:
                w = decayed
        delta = mean - self.mean
        self.mean += w * delta
        # Chan's parallel combination, written with the weight so that decay fits in too.
        self.var = (1.0 - w) * (self.var + w * delta * delta) + w * var
        self.n = total

    def to_dict(self) -> dict[str, Any]:
        return {"n": self.n, "m": self.mean, "v": self.var}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Baseline:
        return cls(
            max(0, _int(data.get("n"))), _float(data.get("m")), max(0.0, _float(data.get("v")))
        )


# --- change detection ------------------------------------------------------------------------

# Why CUSUM of log-likelihood ratios rather than Page-Hinkley: Page-Hinkley is the same
# recursion with the running mean as reference and a tolerance in the series' raw units, which
# has to be tuned per series (milliseconds, tokens, ratings, a refusal rate). The likelihood-
# ratio CUSUM is scale-free: the shift to detect is given in baseline standard deviations and
# the threshold ``h`` bounds false alarms directly (in-control run length ≥ e^h samples under
# the model), for Gaussian means and Bernoulli rates alike. It is the optimal detector for a
# shift of the chosen size (Lorden, Moustakides), and because each sample's ratio is linear in
# the sufficient statistics, a whole batch folds in as one step from its summary.


def gaussian_llr(batch: Summary, mean: float, sd: float, shift: float) -> tuple[float, float]:
    """Log-likelihood ratios of a batch for a mean of ``mean ± shift·sd`` against ``mean``."""
    count = batch.n
    z_sum = count * (batch.mean - mean) / sd
    penalty = count * shift * shift / 2.0
    return shift * z_sum - penalty, -shift * z_sum - penalty


def bernoulli_llr(count: int, events: int, p0: float, shift: float) -> tuple[float, float]:
    """Log-likelihood ratios of ``events`` in ``count`` trials for a rate moved by ``shift``
    standard deviations up and down from ``p0`` (kept strictly inside (0, 1))."""
    s = math.sqrt(p0 * (1.0 - p0))
    p_up = p0 + min(shift * s, (1.0 - p0) / 2.0)
    p_down = p0 - min(shift * s, p0 / 2.0)
    misses = count - events
    up = events * math.log(p_up / p0) + misses * math.log((1.0 - p_up) / (1.0 - p0))
    down = events * math.log(p_down / p0) + misses * math.log((1.0 - p_down) / (1.0 - p0))
    return up, down


class Cusum:
    """A two-sided CUSUM over log-likelihood ratios, remembering where each excursion began.

    ``up``/``down`` are the statistics; while one is above zero the values that raised it are
    counted and summed, which gives the post-change mean and start time when it alarms.
    """

    __slots__ = ("down", "down_n", "down_since", "down_sum", "up", "up_n", "up_since", "up_sum")

    def __init__(self) -> None:
        self.up = 0.0
        self.down = 0.0
        self.up_n = 0
        self.down_n = 0
        self.up_sum = 0.0
        self.down_sum = 0.0
        self.up_since = 0.0
        self.down_since = 0.0

    def update(
        self, llr_up: float, llr_down: float, count: int, total: float, at: float, h: float
    ) -> int:
        """Fold in one batch; +1 or -1 when that side crosses ``h`` (then reset), else 0."""
        up = self.up + llr_up
        if up > 0.0:
            # A batch that alone outweighs the whole excursion so far is where the change
            # most plausibly began (a sharp step after a little noise): the excursion's count,
            # sum and start restart there, so the reported "current" mean is the new level.
            if self.up <= 0.0 or llr_up > self.up:
                self.up_n, self.up_sum, self.up_since = 0, 0.0, at
            self.up_n += count
            self.up_sum += total
            self.up = up
        else:
            self.up = 0.0
        down = self.down + llr_down
        if down > 0.0:
            if self.down <= 0.0 or llr_down > self.down:
                self.down_n, self.down_sum, self.down_since = 0, 0.0, at
            self.down_n += count
            self.down_sum += total
            self.down = down
        else:
            self.down = 0.0
        if self.up > h or self.down > h:
            return 1 if self.up - h >= self.down - h else -1
        return 0

    def quiet(self, h: float) -> bool:
        """Neither side is half way to an alarm: the batch may teach the baseline."""
        return self.up < h / 2.0 and self.down < h / 2.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "u": self.up,
            "d": self.down,
            "un": self.up_n,
            "dn": self.down_n,
            "us": self.up_sum,
            "ds": self.down_sum,
            "ut": self.up_since,
            "dt": self.down_since,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Cusum:
        c = cls()
        c.up = max(0.0, _float(data.get("u")))
        c.down = max(0.0, _float(data.get("d")))
        c.up_n = max(0, _int(data.get("un")))
        c.down_n = max(0, _int(data.get("dn")))
        c.up_sum = _float(data.get("us"))
        c.down_sum = _float(data.get("ds"))
        c.up_since = _float(data.get("ut"))
        c.down_since = _float(data.get("dt"))
        return c


@dataclass(slots=True, frozen=True)
class ShiftParams:
    warmup: int = 200  # values before the baseline is trusted
    memory: int = 10_000  # mean age, in values, of what the baseline remembers after that
    shift: float = 0.5  # the shift to detect, in baseline standard deviations
    threshold: float = 18.0  # CUSUM threshold h: false alarms at most about once per e^h values
    cooldown: float = 3600.0  # seconds after an alarm in which the series raises nothing
    clip: float = 4.0  # values are winsorised at mean ± clip·sd before they count


class Alarm(NamedTuple):
    direction: int  # +1 up, -1 down
    baseline_mean: float
    baseline_sd: float
    baseline_samples: int
    current_mean: float  # mean of the values since the change began
    samples: int  # how many values that is
    since: float  # when the change began (epoch seconds of the batch that started it)


# Rates are never taken as exactly 0 or 1 (a likelihood ratio against certainty is infinite):
# at least half an event in the values seen, and never below this.
_RATE_FLOOR = 1e-4
# A baseline learns at once from quiet batches until it has this many warm-ups' worth of values,
# and only through the lagged, tested chunks of ``ShiftDetector._learnable`` after that.
SETTLE = 5
# A constant series has no spread to measure a shift against; 1% of its level stands in.
_SD_FLOOR = 1e-2


class ShiftDetector:
    """Baseline plus CUSUM for one series: learns, watches, alarms once, then re-learns.

    Values teach the baseline only after a lag of ``warmup`` values, and only while the CUSUM
    is quiet: a baseline that learned at once would absorb a slow shift before the CUSUM had
    gathered the evidence for it. Every value gets in eventually (unless an alarm discards
    it), so which values are learned never depends on what they were.

    After an alarm the series re-baselines on the new level (so a lasting shift is reported
    once, not for every batch after it) and stays silent for ``cooldown`` seconds; a further
    alarm inside the cool-down only re-baselines.
    """

    __slots__ = ("baseline", "cusum", "kind", "pending", "quiet_until")

    def __init__(self, kind: Kind) -> None:
        self.kind: Kind = kind
        self.baseline = Baseline()
        self.pending = Baseline()  # values seen but not yet learned (plain Welford)
        self.cusum = Cusum()
        self.quiet_until = 0.0

    def bounds(self, clip_sd: float) -> tuple[float, float] | None:
        """Where values are winsorised, or None while there is no baseline to centre on."""
        if self.kind != "normal" or self.baseline.n == 0:
            return None
        sd = self._sd()
        return self.baseline.mean - clip_sd * sd, self.baseline.mean + clip_sd * sd

    def _sd(self) -> float:
        return max(self.baseline.sd, _SD_FLOOR * abs(self.baseline.mean), 1e-9)

    def _rate(self, memory: int) -> float:
        seen = min(self.baseline.n, memory) if memory > 0 else self.baseline.n
        floor = max(_RATE_FLOOR, 0.5 / max(seen, 1))
        return min(max(self.baseline.mean, floor), 1.0 - floor)

    def _rate_ready(self, warmup: int) -> bool:
        """A rate's baseline needs a few events (and non-events) as well as ``warmup`` trials:
        two errors in 200 say little about an error rate. A series that shows no events at all
        is trusted after ``20 × warmup`` trials, at a rate of half an event in that many."""
        b = self.baseline
        if b.n >= 20 * warmup:
            return True
        events = b.mean * b.n
        return b.n >= warmup and min(events, b.n - events) >= 4.5

    def observe(self, values: Sequence[float], at: float, p: ShiftParams) -> Alarm | None:
        """A batch of a Gaussian-like series (latency, tokens, a score)."""
        if not values:
            return None
        if not self.baseline.ready(p.warmup):
            self.baseline.add_summary(summarise(values), p.memory)
            return None
        lo, hi = self.bounds(p.clip) or (-math.inf, math.inf)
        batch = summarise(clip(values, lo, hi))
        up, down = gaussian_llr(batch, self.baseline.mean, self._sd(), p.shift)
        # The excursion's mean, reported on alarm, is of the values as they were.
        return self._step(batch, sum(values), up, down, at, p)

    def observe_events(self, count: int, events: int, at: float, p: ShiftParams) -> Alarm | None:
        """A batch of a rate: ``events`` of ``count`` trials (errors, refusals, thumbs down)."""
        if count <= 0:
            return None
        mean = events / count
        batch = Summary(count, mean, mean * (1.0 - mean))
        if not self._rate_ready(p.warmup):
            self.baseline.add_summary(batch, p.memory)
            return None
        up, down = bernoulli_llr(count, events, self._rate(p.memory), p.shift)
        return self._step(batch, float(events), up, down, at, p)

    def _step(
        self, batch: Summary, total: float, up: float, down: float, at: float, p: ShiftParams
    ) -> Alarm | None:
        direction = self.cusum.update(up, down, batch.n, total, at, p.threshold)
        if direction == 0:
            if self.baseline.n < SETTLE * p.warmup:
                # Young: the warm-up estimate is still rough (a handful of events for a rare
                # rate) and must be allowed to correct itself quickly.
                if self.cusum.quiet(p.threshold):
                    self.baseline.add_summary(batch, p.memory)
                return None
            self.pending.add_summary(batch)
            if self.pending.n >= p.warmup and self._learnable(p):
                pending = self.pending
                self.baseline.add_summary(Summary(pending.n, pending.mean, pending.var), p.memory)
                self.pending = Baseline()
            return None
        c = self.cusum
        n, total, since = (
            (c.up_n, c.up_sum, c.up_since)
            if direction > 0
            else (c.down_n, c.down_sum, c.down_since)
        )
        alarm = Alarm(
            direction=direction,
            baseline_mean=self.baseline.mean,
            baseline_sd=self.baseline.sd,
            baseline_samples=self.baseline.n,
            current_mean=total / n if n else batch.mean,
            samples=n,
            since=since,
        )
        self.baseline = Baseline()
        self.pending = Baseline()
        self.cusum = Cusum()
        if at < self.quiet_until:
            return None
        self.quiet_until = at + p.cooldown
        return alarm

    def _learnable(self, p: ShiftParams) -> bool:
        """Whether the pending values may join the baseline: the CUSUM is quiet and the values
        on their own favour "no shift" over a shift either way. A chunk that fails waits and is
        judged again with more values, so a real shift never seeps into its own reference,
        while in-control values (which fail rarely, and never for good) all get in."""
        if self.pending.n >= 20 * p.warmup:
            return True  # raised this long without an alarm: this is the new normal
        if not self.cusum.quiet(p.threshold):
            return False
        pending = self.pending
        if self.kind == "bernoulli":
            events = round(pending.mean * pending.n)
            up, down = bernoulli_llr(pending.n, events, self._rate(p.memory), p.shift)
        else:
            chunk = Summary(pending.n, pending.mean, pending.var)
            up, down = gaussian_llr(chunk, self.baseline.mean, self._sd(), p.shift)
        return up <= 0.0 and down <= 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "k": self.kind,
            "b": self.baseline.to_dict(),
            "p": self.pending.to_dict(),
            "c": self.cusum.to_dict(),
            "q": self.quiet_until,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ShiftDetector:
        kind = data.get("k")
        d = cls("bernoulli" if kind == "bernoulli" else "normal")
        b, pending, c = data.get("b"), data.get("p"), data.get("c")
        if isinstance(b, Mapping):
            d.baseline = Baseline.from_dict(b)
        if isinstance(pending, Mapping):
            d.pending = Baseline.from_dict(pending)
        if isinstance(c, Mapping):
            d.cusum = Cusum.from_dict(c)
        d.quiet_until = _float(data.get("q"))
        return d


# --- windows ---------------------------------------------------------------------------------


class WindowCounter:
    """Integer counters per key in fixed-width time buckets over a sliding window.

    ``width`` seconds per bucket and ``span`` buckets per window; buckets older than the window
    are dropped whenever the counter is touched, so its size is bounded by ``span`` times the
    number of keys. Each key holds a fixed-length vector (``fields`` counters), for example
    ``[requests, errors, timeouts]``.
    """

    __slots__ = ("buckets", "fields", "span", "width")

    def __init__(self, width: int = 60, span: int = 5, fields: int = 1) -> None:
        if width <= 0 or span <= 0 or fields <= 0:
            raise ValueError("width, span and fields must be positive")
        self.width = width
        self.span = span
        self.fields = fields
        self.buckets: dict[int, dict[str, list[int]]] = {}

    def bucket(self, at: float) -> int:
        return int(at // self.width)

    def prune(self, at: float) -> None:
        oldest = self.bucket(at) - self.span + 1
        for b in [b for b in self.buckets if b < oldest]:
            del self.buckets[b]

    def add(self, at: float, key: str, counts: Sequence[int]) -> None:
        if len(counts) != self.fields:
            raise ValueError(f"expected {self.fields} counts")
        self.prune(at)
        row = self.buckets.setdefault(self.bucket(at), {}).setdefault(key, [0] * self.fields)
        for i, c in enumerate(counts):
            row[i] += c

    def totals(self, at: float) -> dict[str, list[int]]:
        """Each key's counts summed over the window that ends with ``at``'s bucket."""
        self.prune(at)
        current = self.bucket(at)
        out: dict[str, list[int]] = {}
        for b, rows in self.buckets.items():
            if b > current:
                continue  # a bucket from a clock that ran ahead; not part of this window
            for key, counts in rows.items():
                acc = out.setdefault(key, [0] * self.fields)
                for i, c in enumerate(counts):
                    acc[i] += c
        return out

    def keys(self) -> set[str]:
        return {k for rows in self.buckets.values() for k in rows}

    def to_dict(self) -> dict[str, Any]:
        return {
            "w": self.width,
            "s": self.span,
            "f": self.fields,
            "b": {
                str(b): {k: list(v) for k, v in rows.items()} for b, rows in self.buckets.items()
            },
        }

    @classmethod
    def from_dict(
        cls, data: Mapping[str, Any], *, width: int, span: int, fields: int
    ) -> WindowCounter:
        """The stored counter, re-shaped to the current settings (a changed bucket width or
        field count cannot be converted, so the counts start over)."""
        w = cls(width, span, fields)
        if _int(data.get("w")) != width or _int(data.get("f")) != fields:
            return w
        stored = data.get("b")
        if not isinstance(stored, Mapping):
            return w
        for b, rows in stored.items():
            try:
                index = int(b)
            except (TypeError, ValueError):
                continue
            if not isinstance(rows, Mapping):
                continue
            clean = {
                str(k): [max(0, _int(c)) for c in v]
                for k, v in rows.items()
                if isinstance(v, list) and len(v) == fields
            }
            if clean:
                w.buckets[index] = clean
        return w


class HeavyHitters:
    """Misra–Gries summary: the keys with the largest counts, in bounded space.

    Keeps at most ``capacity`` keys; each kept count is a lower bound that is short of the true
    count by at most N/(capacity+1), N being the total added. Used for per-user volumes, where
    an unbounded dict of every user of the hour would make the state grow with traffic; an
    underestimate never accuses anyone wrongly.
    """

    __slots__ = ("capacity", "counts", "total")

    def __init__(self, capacity: int = 1000) -> None:
        if capacity <= 0:
            raise ValueError("capacity must be positive")
        self.capacity = capacity
        self.counts: dict[str, int] = {}
        self.total = 0

    def merge(self, counts: Mapping[str, int]) -> None:
        """Add a batch's counts, then shrink back to ``capacity`` keys (mergeable summaries:
        subtract the (capacity+1)-th largest count from every key and drop the non-positive)."""
        merged = self.counts
        for key, c in counts.items():
            if c > 0:
                merged[key] = merged.get(key, 0) + c
                self.total += c
        if len(merged) > self.capacity:
            cut = sorted(merged.values(), reverse=True)[self.capacity]
            self.counts = {k: v - cut for k, v in merged.items() if v > cut}

    def estimate(self, key: str) -> int:
        return self.counts.get(key, 0)

    def to_dict(self) -> dict[str, Any]:
        return {"c": dict(self.counts), "n": self.total}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, capacity: int) -> HeavyHitters:
        h = cls(capacity)
        stored = data.get("c")
        if isinstance(stored, Mapping):
            counts = {str(k): c for k, v in stored.items() if (c := _int(v)) > 0}
            if len(counts) > capacity:  # stored with a larger capacity: shrink it properly
                h.merge(counts)
            else:
                h.counts = counts
        h.total = max(sum(h.counts.values()), _int(data.get("n")))
        return h


# --- tests for two groups --------------------------------------------------------------------


def normal_sf(z: float) -> float:
    """P(Z > z) for a standard normal Z, via the complementary error function (no SciPy)."""
    return 0.5 * math.erfc(z / math.sqrt(2.0))


def _log_choose(n: int, k: int) -> float:
    return math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)


def fisher_exact(a: int, b: int, c: int, d: int) -> float:
    """Two-sided p-value of Fisher's exact test for the table [[a, b], [c, d]].

    Sums the probabilities of every table with the same margins that is no more likely than
    the observed one (the usual two-sided definition, as in R's ``fisher.test``).
    """
    if min(a, b, c, d) < 0:
        raise ValueError("counts must not be negative")
    row1, row2, col1 = a + b, c + d, a + c
    n = row1 + row2
    if n == 0:
        return 1.0
    lo, hi = max(0, col1 - row2), min(col1, row1)
    denom = _log_choose(n, col1)

    def logp(x: int) -> float:
        return _log_choose(row1, x) + _log_choose(row2, col1 - x) - denom

    observed = logp(a)
    # Tolerance as in R: tables within a relative 1e-7 of the observed probability count too.
    limit = observed + math.log1p(1e-7)
    total = math.fsum(math.exp(lp) for x in range(lo, hi + 1) if (lp := logp(x)) <= limit)
    return min(1.0, total)


def two_proportion_test(x1: int, n1: int, x2: int, n2: int) -> float:
    """Two-sided p-value that two groups share one success rate.

    The pooled two-proportion z-test when every expected cell count is at least 5 (where its
    normal approximation holds), Fisher's exact test otherwise.
    """
    if not (0 <= x1 <= n1 and 0 <= x2 <= n2):
        raise ValueError("each count must be between 0 and its group size")
    if n1 == 0 or n2 == 0:
        return 1.0
    n = n1 + n2
    pooled = (x1 + x2) / n
    expected = (n1 * pooled, n1 * (1 - pooled), n2 * pooled, n2 * (1 - pooled))
    if min(expected) < 5.0:
        return fisher_exact(x1, n1 - x1, x2, n2 - x2)
    se = math.sqrt(pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2))
    if se == 0.0:
        return 1.0
    z = abs(x1 / n1 - x2 / n2) / se
    return min(1.0, 2.0 * normal_sf(z))


def impact_ratio(low_rate: float, high_rate: float) -> float:
    """The disparate-impact ratio: the lower group's rate over the higher group's (1 if equal
    or if nobody gets a favourable outcome at all, where there is no disparity to measure)."""
    if high_rate <= 0.0:
        return 1.0
    return low_rate / high_rate


class Extremes(NamedTuple):
    low: str
    high: str
    ratio: float


def four_fifths(rates: Mapping[str, float]) -> Extremes | None:
    """The groups with the lowest and highest rate and their impact ratio; the four-fifths
    rule calls a ratio below 0.8 evidence of adverse impact. None for fewer than two groups.
    Ties go to the alphabetically first group so the answer never depends on dict order."""
    if len(rates) < 2:
        return None
    low = min(rates.items(), key=lambda kv: (kv[1], kv[0]))
    high = min(rates.items(), key=lambda kv: (-kv[1], kv[0]))
    return Extremes(low[0], high[0], impact_ratio(low[1], high[1]))


def most_extreme(
    values: Sequence[float], ids: Sequence[int], direction: int, limit: int = 50
) -> list[int]:
    """The ids of the ``limit`` values furthest in ``direction``: an alarm's examples."""
    order: Iterable[int] = sorted(
        range(len(values)), key=values.__getitem__, reverse=direction > 0
    )[:limit]
    return sorted(ids[i] for i in order)
