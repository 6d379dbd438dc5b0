"""One pass over each text field for every content detector's patterns.

Running each detector's regular expressions one after another costs a pass per pattern; a
Python ``re`` alternation of the usual personal-data and secret patterns manages only a few
MB/s. Hyperscan compiles all of them into one automaton and scans at memory speed, so it is
the engine here, used as a *prefilter*: it says which patterns occur in which field (in its
prefilter mode, a superset, so lookarounds are allowed), and Python ``re`` then finds the exact
matches only in those fields. Benign text, the vast majority, never reaches Python ``re``.

A pattern may name the text sources it reads (``Pattern.sources``): prompt injection, say, is
looked for in what users, documents and tools wrote, not in the operator's instructions or the
model's answer. Such patterns get a database of their own, one for each distinct set of sources,
which scans only the fields from those sources: a pattern's cost is paid on the text that can
matter to it, and no more. Each database is still one Hyperscan call per batch.

Where the Hyperscan wheel is missing (an unusual platform) every pattern runs through ``re``:
slower, with exactly the same results, because the matches always come from ``re``.
"""

from __future__ import annotations

import hashlib
import os
import platform
import re
import threading
from bisect import bisect_right
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from firestop.detect.base import Match, Pattern, Source, TextField

hyperscan: Any
try:
    import hyperscan
except ImportError:  # pragma: no cover - only on platforms without the wheel
    hyperscan = None


# Compiled databases by the patterns in them (names included: a database reports ids, and the
# ids are positions in that tuple).
_compiled: dict[tuple[Pattern, ...], Any] = {}
# Between joined texts: a line break and a NUL, which no pattern's match needs to span.
_SEPARATOR = b"\n\x00\n"
_compiled_lock = threading.Lock()


# Bump when the way expressions are compiled changes, so no stale cached database is loaded.
_CACHE_FORMAT = "2"

# Escapes that match a character outside a set, so possibly part of a multi-byte character.
_NEGATED_ESCAPES = frozenset("SWDHVN")
# Escapes this check does not follow (code points, properties, quoting): UTF-8 mode for them.
_OPAQUE_ESCAPES = frozenset("xopPXCQEKRgk0123456789")
_UNBOUNDED = re.compile(r"[*+]|\{[0-9]+,\}")
_BOUNDED = re.compile(r"\?|\{[0-9]+(?:,[0-9]+)?\}")


def byte_safe(expression: str) -> bool:
    """Whether Hyperscan may match ``expression`` byte by byte instead of in UTF-8 mode.

    UTF-8 mode costs: the whole combined database scans at about half the speed and compiles
    ten times slower, because every ``.`` and negated set then has to match multi-byte
    sequences. Byte mode finds a superset of UTF-8 mode's matches (enough for a prefilter) when
    the expression is ASCII and each atom that can match a non-ASCII character (``.``, ``[^…]``,
    ``\\S``, …) either repeats without an upper bound (a run of such characters is a longer
    run of such bytes) or ends the expression (a match of the bytes up to there is a prefix of
    the match). Anything else, including a lookaround holding such an atom, stays in UTF-8 mode.
    """
    if not expression.isascii():
        return False
    i, n = 0, len(expression)
    while i < n:
        c = expression[i]
        negated = False
        if c == "\\":
            if i + 1 >= n or expression[i + 1] in _OPAQUE_ESCAPES:
                return False
            negated = expression[i + 1] in _NEGATED_ESCAPES
            i += 2
        elif c == "[":
            j = i + 1
            if j < n and expression[j] == "^":
                negated = True
                j += 1
            if j < n and expression[j] == "]":
                j += 1  # a "]" first in a set is a literal
            while j < n and expression[j] != "]":
                if expression[j] == "\\":
                    if j + 1 >= n or expression[j + 1] in _OPAQUE_ESCAPES:
                        return False
                    negated = negated or expression[j + 1] in _NEGATED_ESCAPES
                    j += 1
                elif expression.startswith("[:^", j):
                    negated = True
                elif expression.startswith("[:", j):
                    j = expression.find(":]", j) + 1
                    if j <= 0:
                        return False
                j += 1
            i = j + 1
        elif c == ".":
            negated = True
            i += 1
        else:
            i += 1
        if negated:
            unbounded = _UNBOUNDED.match(expression, i)
            if unbounded is None:
                bounded = _BOUNDED.match(expression, i)
                rest = expression[bounded.end() :] if bounded else expression[i:]
                if rest not in ("", "?"):
                    return False
    return True


class PatternError(ValueError):
    """A pattern that one of the engines refuses; the message names it."""


class _Database:
    """The patterns that read one set of sources, compiled together.

    ``ids[i]`` is the Scanner-wide index of the database's pattern ``i``; ``sources`` is
    None for the patterns that read every field.
    """

    __slots__ = ("db", "ids", "patterns", "sources")

    def __init__(
        self, sources: frozenset[Source] | None, ids: tuple[int, ...], patterns: tuple[Pattern, ...]
    ) -> None:
        self.sources = sources
        self.ids = ids
        self.patterns = patterns
        self.db: Any = None

    def cache_file(self) -> Path:
        """Where the compiled database is kept between processes: the name is a digest of
        what decides the compiled bytes (the expressions, their flags, the Hyperscan build)."""
        material = repr([(p.regex, p.caseless, p.prefilter) for p in self.patterns])
        material += _CACHE_FORMAT + hyperscan.__version__ + platform.machine()
        digest = hashlib.sha256(material.encode()).hexdigest()[:32]
        base = os.environ.get("FIRESTOP_CACHE_DIR") or os.environ.get("XDG_CACHE_HOME")
        root = Path(base) if base else Path.home() / ".cache"
        return root / "firestop" / "hyperscan" / f"{digest}.db"

    def load_or_compile(self) -> Any:
        # Compiling takes seconds for a large set; every Scanner of one process with the same
        # patterns shares the result (the database is read-only; scratch is per thread), and
        # the compiled database is kept on disk for the next process.
        with _compiled_lock:
            db = _compiled.get(self.patterns)
            if db is None:
                db = _compiled[self.patterns] = self._load_or_compile()
        self.db = db
        return db

    def _load_or_compile(self) -> Any:
        path = self.cache_file()
        try:
            return hyperscan.loadb(path.read_bytes(), hyperscan.HS_MODE_BLOCK)
        except (OSError, hyperscan.error):
            pass  # not cached yet, unreadable, or built for another CPU: compile afresh
        db = self._compile_now()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            spare = path.with_suffix(f".{os.getpid()}.tmp")
            spare.write_bytes(hyperscan.dumpb(db))
            spare.replace(path)  # atomic: a reader never sees half a file
        except OSError:
            pass  # a read-only home only costs the next process a compile
        return db

    def _compile_now(self) -> Any:
        assert hyperscan is not None
        expressions = [p.prefilter or p.regex for p in self.patterns]
        flags = []
        for p, expression in zip(self.patterns, expressions, strict=True):
            flag = hyperscan.HS_FLAG_PREFILTER
            if p.caseless:
                flag |= hyperscan.HS_FLAG_CASELESS
            # Per expression: keyword prefilters match bytewise, the rest as before.
            if not byte_safe(expression):
                flag |= hyperscan.HS_FLAG_UTF8
            flags.append(flag)
        db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
        try:
            db.compile(
                expressions=[e.encode() for e in expressions],
                ids=list(range(len(self.patterns))),
                elements=len(self.patterns),
                flags=flags,
            )
        except hyperscan.error as exc:
            raise PatternError(f"hyperscan refused a pattern: {exc}") from exc
        return db


class Scanner:
    """Finds every pattern in a list of fields; safe to share between threads.

    A pattern with ``sources`` is only looked for in fields from those sources, by either
    engine; ``candidates``, which is handed bare texts, looks for every pattern.
    """

    def __init__(self, patterns: Sequence[Pattern], *, engine: str = "auto") -> None:
        names = [p.name for p in patterns]
        if len(set(names)) != len(names):
            raise PatternError("pattern names must be unique")
        self.patterns = tuple(patterns)
        self._compiled: list[re.Pattern[str]] = []
        for p in self.patterns:
            if p.sources is not None and not p.sources:
                raise PatternError(f"pattern {p.name!r}: sources is empty (None means every one)")
            try:
                self._compiled.append(re.compile(p.regex, re.IGNORECASE if p.caseless else 0))
            except re.error as exc:
                raise PatternError(f"pattern {p.name!r}: {exc}") from exc
        # The patterns each source's fields go through, for the re engine; in pattern order.
        self._applicable = {
            source: [
                i for i, p in enumerate(self.patterns) if p.sources is None or source in p.sources
            ]
            for source in Source
        }
        self._every = list(range(len(self.patterns)))
        # One database per distinct ``sources``, in order of first appearance.
        by_sources: dict[frozenset[Source] | None, list[int]] = {}
        for i, p in enumerate(self.patterns):
            by_sources.setdefault(p.sources, []).append(i)
        self._databases = [
            _Database(sources, tuple(ids), tuple(self.patterns[i] for i in ids))
            for sources, ids in by_sources.items()
        ]
        use_hyperscan = engine == "hyperscan" or (engine == "auto" and hyperscan is not None)
        self.engine = "hyperscan" if use_hyperscan and self.patterns else "re"
        self._local = threading.local()
        if self.engine == "hyperscan":
            for database in self._databases:
                database.load_or_compile()

    def _scratches(self) -> list[Any]:
        # Scratch space is per scan in flight; each thread keeps its own, one per database.
        scratches: list[Any] | None = getattr(self._local, "scratches", None)
        if scratches is None:
            scratches = [hyperscan.Scratch(d.db) for d in self._databases]
            self._local.scratches = scratches
        return scratches

    def candidates(self, text: str) -> list[int]:
        """Indexes of the patterns that may occur in ``text`` (all of them without Hyperscan),
        whatever sources they read."""
        # The joined-text databases serve single texts too: a second, single-match database
        # doubled compile time and memory for no measurable gain.
        return self.candidates_many([text])[0]

    def candidates_many(
        self, texts: Sequence[str], sources: Sequence[Source] | None = None
    ) -> list[list[int]]:
        """For each text, the indexes of the patterns that may occur in it, in order.

        ``sources``, when given, says where each text came from, and leaves out the patterns
        that do not read that source; without it every pattern is looked for in every text.
        """
        found = self._candidates(texts, sources)
        return [list(found.get(i, ())) for i in range(len(texts))]

    def _candidates(
        self, texts: Sequence[str], sources: Sequence[Source] | None
    ) -> dict[int, list[int]]:
        """``candidates_many`` for the texts that have any: text index → pattern indexes.

        Most texts of a batch have no candidate at all, so they cost nothing past the scan.

        One Hyperscan call per database covers all the texts it reads, joined with a
        separator: a call costs a few microseconds however short its input, and an interaction
        has several short fields. A match is credited to the text it ends in, so one that
        straddles a separator only makes a spurious candidate, which Python ``re`` then rejects.
        """
        if self.engine != "hyperscan":
            if sources is None:
                return dict.fromkeys(range(len(texts)), self._every) if self._every else {}
            applicable = self._applicable
            return {i: applicable[s] for i, s in enumerate(sources) if applicable[s]}
        # ASCII text (most of it) encodes by copying; only the rest needs the error handler.
        encoded = [t.encode() if t.isascii() else t.encode("utf-8", "surrogatepass") for t in texts]
        found: dict[int, set[int]] = {}
        for database, scratch in zip(self._databases, self._scratches(), strict=True):
            wanted = database.sources
            if wanted is None or sources is None:
                self._scan_joined(database, scratch, encoded, None, found)
                continue
            members = [i for i, source in enumerate(sources) if source in wanted]
            if members:
                parts = [encoded[i] for i in members]
                self._scan_joined(database, scratch, parts, members, found)
        return {i: sorted(h) for i, h in found.items()}

    @staticmethod
    def _scan_joined(
        database: _Database,
        scratch: Any,
        parts: list[bytes],
        members: list[int] | None,
        found: dict[int, set[int]],
    ) -> None:
        """Scan ``parts`` in one call; add what each holds to ``found`` under its text index
        (``members[k]`` for part ``k``, or ``k`` itself when ``members`` is None)."""
        starts, offset = [], 0
        for data in parts:
            starts.append(offset)
            offset += len(data) + len(_SEPARATOR)
        ids = database.ids

        def on_match(pid: int, _start: int, end: int, _flags: int, _ctx: object) -> None:
            k = bisect_right(starts, end - 1) - 1
            text = k if members is None else members[k]
            hits = found.get(text)
            if hits is None:
                found[text] = {ids[pid]}
            else:
                hits.add(ids[pid])

        database.db.scan(_SEPARATOR.join(parts), on_match, scratch=scratch)

    def scan(self, fields: Sequence[TextField]) -> list[Match]:
        """Python ``re``'s non-overlapping matches of every pattern, field by field."""
        return self.scan_many([fields])[0]

    def scan_many(self, groups: Sequence[Sequence[TextField]]) -> list[list[Match]]:
        """``scan`` for several interactions' fields at once (one Hyperscan call in all)."""
        names = [p.name for p in self.patterns]
        return [
            [Match(names[pid], index, start, end) for pid, index, start, end in found]
            for found in self.scan_many_indexed(groups)
        ]

    def scan_many_indexed(
        self, groups: Sequence[Sequence[TextField]]
    ) -> list[list[tuple[int, int, int, int]]]:
        """``scan_many`` as plain tuples: (pattern index, field index, start, end).

        For a caller that re-labels every match anyway (the content engine hands each detector
        its own pattern names): it is spared building each ``Match`` twice. Only the fields
        with a candidate are visited after the scan.
        """
        firsts: list[int] = []  # the flat index of each interaction's first field
        count = 0
        for fields in groups:
            firsts.append(count)
            count += len(fields)
        texts = [item.text for fields in groups for item in fields]
        sources = [item.source for fields in groups for item in fields]
        compiled = self._compiled
        out: list[list[tuple[int, int, int, int]]] = [[] for _ in groups]
        for i, pids in sorted(self._candidates(texts, sources).items()):
            # The last interaction starting at or before i: an empty one shares its start
            # with the next, and bisect_right passes over it.
            group = bisect_right(firsts, i) - 1
            index = i - firsts[group]
            text = texts[i]
            found = out[group]
            for pid in pids:
                for m in compiled[pid].finditer(text):
                    start, end = m.span()
                    if end > start:
                        found.append((pid, index, start, end))
        return out
