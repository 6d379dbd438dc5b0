"""One pass over each text field for every content detector's patterns.

Running each detector's regular expressions one after another costs a pass per pattern; a
Python ``re`` alternation of the usual personal-data and secret patterns manages only a few
MB/s. Hyperscan compiles all of them into one automaton and scans at memory speed, so it is
the engine here, used as a *prefilter*: it says which patterns occur in which field (in its
prefilter mode, a superset, so lookarounds are allowed), and Python ``re`` then finds the exact
matches only in those fields. Benign text, the vast majority, never reaches Python ``re``.

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

from firestop.detect.base import Match, Pattern, TextField

hyperscan: Any
try:
    import hyperscan
except ImportError:  # pragma: no cover - only on platforms without the wheel
    hyperscan = None


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


class Scanner:
    """Finds every pattern in a list of fields; safe to share between threads."""

    def __init__(self, patterns: Sequence[Pattern], *, engine: str = "auto") -> None:
        names = [p.name for p in patterns]
        if len(set(names)) != len(names):
            raise PatternError("pattern names must be unique")
        self.patterns = tuple(patterns)
        self._compiled: list[re.Pattern[str]] = []
        for p in self.patterns:
            try:
                self._compiled.append(re.compile(p.regex, re.IGNORECASE if p.caseless else 0))
            except re.error as exc:
                raise PatternError(f"pattern {p.name!r}: {exc}") from exc
        use_hyperscan = engine == "hyperscan" or (engine == "auto" and hyperscan is not None)
        self.engine = "hyperscan" if use_hyperscan and self.patterns else "re"
        self._db: Any = None
        self._local = threading.local()
        if self.engine == "hyperscan":
            self._db = self._compile_hyperscan()

    def _compile_hyperscan(self) -> Any:
        # Compiling takes seconds for a large set; every Scanner of one process with the same
        # patterns shares the result (the database is read-only; scratch is per thread), and
        # the compiled database is kept on disk for the next process.
        with _compiled_lock:
            db = _compiled.get(self.patterns)
            if db is None:
                db = _compiled[self.patterns] = self._load_or_compile()
        return db

    def _cache_file(self) -> Path:
        material = repr([(p.regex, p.caseless, p.prefilter) for p in self.patterns])
        material += _CACHE_FORMAT + hyperscan.__version__ + platform.machine()
        digest = hashlib.sha256(material.encode()).hexdigest()[:32]
        base = os.environ.get("FIRESTOP_CACHE_DIR") or os.environ.get("XDG_CACHE_HOME")
        root = Path(base) if base else Path.home() / ".cache"
        return root / "firestop" / "hyperscan" / f"{digest}.db"

    def _load_or_compile(self) -> Any:
        path = self._cache_file()
        try:
            return hyperscan.loadb(path.read_bytes(), hyperscan.HS_MODE_BLOCK)
        except (OSError, hyperscan.error):
            pass  # not cached yet, unreadable, or built for another CPU: compile afresh
        db = self._compile_hyperscan_now()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            spare = path.with_suffix(f".{os.getpid()}.tmp")
            spare.write_bytes(hyperscan.dumpb(db))
            spare.replace(path)  # atomic: a reader never sees half a file
        except OSError:
            pass  # a read-only home only costs the next process a compile
        return db

    def _compile_hyperscan_now(self) -> Any:
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

    def _scratch(self) -> Any:
        # Scratch space is per scan in flight; each thread keeps its own.
        scratch = getattr(self._local, "scratch", None)
        if scratch is None:
            scratch = hyperscan.Scratch(self._db)
            self._local.scratch = scratch
        return scratch

    def candidates(self, text: str) -> list[int]:
        """Indexes of the patterns that may occur in ``text`` (all of them without Hyperscan)."""
        # The joined-text database serves single texts too: a second, single-match database
        # doubled compile time and memory for no measurable gain.
        return self.candidates_many([text])[0]

    def candidates_many(self, texts: Sequence[str]) -> list[list[int]]:
        """For each text, the indexes of the patterns that may occur in it.

        One Hyperscan call covers all the texts, joined with a separator: a call costs a few
        microseconds however short its input, and an interaction has several short fields. A
        match is credited to the text it ends in, so one that straddles a separator only makes
        a spurious candidate, which Python ``re`` then rejects.
        """
        if self.engine != "hyperscan":
            every = list(range(len(self.patterns)))
            return [every for _ in texts]
        # ASCII text (most of it) encodes by copying; only the rest needs the error handler.
        encoded = [t.encode() if t.isascii() else t.encode("utf-8", "surrogatepass") for t in texts]
        starts, offset = [], 0
        for data in encoded:
            starts.append(offset)
            offset += len(data) + len(_SEPARATOR)
        hits: list[set[int]] = [set() for _ in texts]

        def on_match(pid: int, _start: int, end: int, _flags: int, _ctx: object) -> None:
            hits[bisect_right(starts, end - 1) - 1].add(pid)

        self._db.scan(_SEPARATOR.join(encoded), on_match, scratch=self._scratch())
        return [sorted(h) for h in hits]

    def scan(self, fields: Sequence[TextField]) -> list[Match]:
        """Python ``re``'s non-overlapping matches of every pattern, field by field."""
        return self.scan_many([fields])[0]

    def scan_many(self, groups: Sequence[Sequence[TextField]]) -> list[list[Match]]:
        """``scan`` for several interactions' fields at once (one Hyperscan call in all)."""
        texts = [item.text for fields in groups for item in fields]
        candidates = iter(self.candidates_many(texts))
        out: list[list[Match]] = []
        for fields in groups:
            found: list[Match] = []
            for index, item in enumerate(fields):
                for pid in next(candidates):
                    name = self.patterns[pid].name
                    for m in self._compiled[pid].finditer(item.text):
                        if m.end() > m.start():
                            found.append(Match(name, index, m.start(), m.end()))
            out.append(found)
        return out
