"""From validated matches to findings, for the validator-style content detectors (pii, secret).

A detector's handlers turn scanner matches into ``Hit``s; ``build_findings`` then settles
overlaps (a number inside ``"ssn": "…"`` is one SSN, not also a named field) and writes
excerpts in which no found value appears, not even a neighbour's.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from firestop.detect.base import Finding, Match, Source, SystemConfig, TextField, redact
from firestop.ledger.schemas import InteractionIn

SOURCE_PLACES = {
    Source.user: "a user's message",
    Source.instructions: "the system instructions",
    Source.assistant: "an earlier model turn",
    Source.output: "the model's output",
    Source.retrieval: "a retrieved document",
    Source.tool_arguments: "tool-call arguments",
    Source.tool_result: "a tool result",
}
# Each source's value as a plain string. ``Source.value`` is an enum property, a Python call
# that costs more than building the rest of a finding; a dict lookup (the str hash) does not.
SOURCE_VALUES: dict[Source, str] = {s: s.value for s in Source}
_EVERY_SOURCE = frozenset(Source)

T = TypeVar("T")


class PerConfig(Generic[T]):
    """What a detector derives from a system's settings, built once per configuration object.

    Detectors run once per interaction, but a ``SystemConfig`` is built once per system every
    few seconds (``config.ConfigCache``) and never changed afterwards, so parsing its settings
    for every interaction is waste. Entries are keyed by the object's identity (it holds dicts,
    so it cannot be hashed) and keep the object itself, so that its id cannot be reused by
    another while the entry exists; old configurations are dropped wholesale when ``limit`` is
    reached. Safe to share between threads: two threads may build the same entry at once, and
    either result is right.
    """

    __slots__ = ("_build", "_items", "_limit", "_lock")

    def __init__(self, build: Callable[[SystemConfig], T], *, limit: int = 256) -> None:
        self._build = build
        self._limit = limit
        self._lock = threading.Lock()
        self._items: dict[int, tuple[SystemConfig, T]] = {}

    def __call__(self, config: SystemConfig) -> T:
        seen = self._items.get(id(config))
        if seen is not None and seen[0] is config:
            return seen[1]
        value = self._build(config)
        with self._lock:
            if len(self._items) >= self._limit:
                self._items.clear()
            self._items[id(config)] = (config, value)
        return value


def _top_level(words: str) -> list[str]:
    """``words`` split at the ``|`` that are outside parentheses."""
    parts, depth, last = [], 0, 0
    for i, c in enumerate(words):
        depth += {"(": 1, ")": -1}.get(c, 0)
        if c == "|" and depth == 0:
            parts.append(words[last:i])
            last = i + 1
    parts.append(words[last:])
    return parts


_WORD = re.compile(r"(?<![A-Za-z[])([a-z])([a-z]*)")


def _title_word(m: re.Match[str]) -> str:
    # Every word may start with a capital ("[Dd]ate [Oo]f"); short words after the first may
    # also be acronyms ("Steuer-ID", "Tax ID", "NHS No").
    first, rest = m[1], m[2]
    title = f"[{first.upper()}{first}]{rest}"
    if m.start() > 0 and len(rest) < 3:
        return f"(?:{title}|{(first + rest).upper()})"
    return title


def cased(words: str, *, not_after: str = "A-Za-z0-9") -> str:
    """A regex for lower-case ``words`` written lower, Title, camelCase or UPPER case.

    ``cased("date[_ -]?of[_ -]?birth")`` matches "date of birth", "Date Of Birth", "dateOfBirth"
    and "DATE_OF_BIRTH", but not inside a longer word ("mandatedateofbirth"): the characters in
    ``not_after`` may not come before it. ``words`` is a regex of lower-case alternatives, each
    starting with a letter, without backslash escapes.

    Why not ``re.IGNORECASE``: it makes Python's exact matching several times slower, and it
    folds Unicode (the Kelvin sign matches "k") where Hyperscan folds ASCII only. The shape of
    the result is for both engines: a branch per first letter and case, each starting with
    that literal letter (Python then skips in C to the next such letter; an alternation of
    character sets makes it try every position) and each a literal-led alternation (a single
    leading set of letters makes Hyperscan 70 times slower).
    """
    groups: dict[str, list[str]] = {}
    for alternative in _top_level(words):
        first = alternative[:1]
        if not ("a" <= first <= "z") or "\\" in alternative:
            raise ValueError(f"cased() needs lower-case alternatives: {alternative!r}")
        title = _WORD.sub(_title_word, alternative)
        rest = title[title.index("]") + 1 :]
        groups.setdefault(first, []).extend([rest, alternative[1:].upper()])
    guard = f"(?<![{not_after}].)" if not_after else ""
    branches = []
    for letter, rests in groups.items():
        tails = "|".join(dict.fromkeys(rests))
        branches.append(f"{letter}{guard}(?:{tails})")
        branches.append(f"{letter.upper()}{guard}(?:{tails})")
    return "(?:" + "|".join(branches) + ")"


@dataclass(slots=True)
class Hit:
    """One validated value: the rule, the span in its field and what to say about it."""

    rule: str
    start: int
    end: int
    severity: str
    label: str  # what replaces the value in excerpts: "[EMAIL]"
    detail: dict[str, Any] = field(default_factory=dict)
    # Where two hits overlap, the lower number wins, then the longer span.
    priority: int = 5


@dataclass(slots=True, frozen=True)
class RuleFilter:
    """The ``sources`` and ``ignore_rules`` settings every validator-style detector takes.

    ``ignore_rules`` entries are a rule (``pii.ip``), a family (``pii.national_id``), or either
    of those in one source only (``pii.email@instructions``).
    """

    sources: frozenset[Source]
    ignored: frozenset[str]
    # Whether ``sources`` is every source, so that a match's source need not be looked up.
    every: bool = False

    @classmethod
    def read(cls, config: SystemConfig, detector: str) -> RuleFilter:
        raw_sources = config.setting(detector, "sources", None)
        sources = _EVERY_SOURCE
        if raw_sources is not None:
            known = set(SOURCE_VALUES.values())
            sources = frozenset(Source(s) for s in raw_sources if s in known)
        ignored = frozenset(str(r) for r in config.setting(detector, "ignore_rules", ()) or ())
        return cls(sources, ignored, sources == _EVERY_SOURCE)

    def ignores(self, rule: str, source: Source) -> bool:
        if not self.ignored:
            return False
        parts = rule.split(".")
        for n in range(1, len(parts) + 1):
            family = ".".join(parts[:n])
            if family in self.ignored or f"{family}@{SOURCE_VALUES[source]}" in self.ignored:
                return True
        return False


def resolve_overlaps(hits: Sequence[Hit]) -> list[Hit]:
    """Of hits that overlap, keep the lowest priority, then the longest; in text order."""
    if len(hits) == 1:
        return [hits[0]]  # the usual case: nothing to settle
    kept: list[Hit] = []
    for hit in sorted(hits, key=lambda h: (h.priority, h.start - h.end, h.start)):
        if all(hit.end <= k.start or hit.start >= k.end for k in kept):
            kept.append(hit)
    kept.sort(key=lambda h: (h.start, h.rule))
    return kept


# ``redact`` shows 24 characters either side; a window a little wider gives the same result.
_WINDOW = 30


def excerpt(text: str, hit: Hit, others: Sequence[Hit]) -> str:
    """``redact`` of ``hit``, with any other hit in view blanked too."""
    nearby = [o for o in others if o.end > hit.start - _WINDOW and o.start < hit.end + _WINDOW]
    if not nearby:
        return redact(text, hit.start, hit.end, hit.label)
    low = max(0, hit.start - _WINDOW)
    chars = list(text[low : hit.end + _WINDOW])
    for o in nearby:
        for k in range(max(o.start, low), min(o.end, low + len(chars))):
            chars[k - low] = "•"
    return redact("".join(chars), hit.start - low, hit.end - low, hit.label)


# A detector's validator for one pattern: the field's text, the match's span, the record.
Handler = Callable[[str, int, int, InteractionIn], "Hit | None"]


def inspect_matches(
    detector: str,
    titles: Mapping[str, str],
    handlers: Mapping[str, Handler],
    record: InteractionIn,
    fields: Sequence[TextField],
    matches: Sequence[Match],
    rules: RuleFilter,
    keep: Callable[[Hit], bool] | None = None,
) -> list[Finding]:
    """The shared ``inspect`` of the validator-style detectors: each match through its
    pattern's handler, the ``sources``/``ignore_rules`` settings and the detector's own
    ``keep`` test, then findings field by field."""
    per_field: dict[int, list[Hit]] = {}
    every, ignoring = rules.every, bool(rules.ignored)
    for m in matches:
        item = fields[m.field]
        if not every and item.source not in rules.sources:
            continue
        hit = handlers[m.pattern](item.text, m.start, m.end, record)
        if hit is None or (ignoring and rules.ignores(hit.rule, item.source)):
            continue
        if keep is None or keep(hit):
            hits = per_field.get(m.field)
            if hits is None:
                per_field[m.field] = [hit]
            else:
                hits.append(hit)
    if not per_field:
        return []
    findings: list[Finding] = []
    for index, hits in sorted(per_field.items()):
        findings.extend(build_findings(detector, titles, fields[index], hits))
    return findings


def build_findings(
    detector: str, titles: Mapping[str, str], item: TextField, hits: Sequence[Hit]
) -> list[Finding]:
    """Findings for one field's hits: overlaps settled, excerpts redacted.

    Every hit becomes a finding, however many a field holds: the ledger's redacted storage
    mode removes exactly the spans of these findings, so a capped list would store the rest
    in clear. Signals group them into one problem (``group``).
    """
    kept = resolve_overlaps(hits)
    source = item.source
    value, place, text, path = SOURCE_VALUES[source], SOURCE_PLACES[source], item.text, item.path
    findings: list[Finding] = []
    for i, hit in enumerate(kept):
        # Kept hits are disjoint and in order, so only close neighbours can be in view.
        others = kept[max(0, i - 6) : i] + kept[i + 1 : i + 7] if len(kept) > 1 else ()
        rule = hit.rule
        findings.append(
            Finding(
                detector=detector,
                rule=rule,
                title=f"{titles[rule]} in {place}",
                path=path,
                start=hit.start,
                end=hit.end,
                excerpt=excerpt(text, hit, others),
                severity=hit.severity,
                category="confidentiality",
                # "E-mail in the output" and "e-mail in a user's message" are different problems.
                group=f"{rule}:{value}",
                detail={"source": value, **hit.detail},
            )
        )
    return findings
