"""Words and phrases an organisation does not want in a system's prompts or outputs.

Each system's settings name its lists::

    policy_terms:
      lists:
        financial_promises:
          terms: ["guaranteed returns", "risk free", "cannot lose"]
          sources: [output]          # optional: Source names; every field when left out
          severity: SEV2             # optional, SEV3 when left out
          category: harmful_output   # optional, see below

A term matches as a whole word or phrase, case-insensitively; the words of a phrase may be
separated by any whitespace ("risk\\nfree"). Each (list, field) pair with at least one match is a
finding ``policy_terms.<list-name>`` that points at the first match and counts the rest; the
matched text is redacted from the excerpt (a code name on a list may itself be confidential).
Without a ``category``, a match in what the system produced (output, earlier model turns, tool
arguments) is hinted ``harmful_output`` and one anywhere else ``prohibited_use``.

The shared scanner compiles every detector's patterns once for all systems, but these terms differ
per system, so this detector returns no patterns and keeps its own matcher per distinct set of
lists. With Hyperscan, the matcher is a prefilter database of the terms' words (see
``term_prefilters``) scanned once over the eligible fields joined together; Python ``re`` then
confirms the exact, whole-word matches of the few terms whose words were all found, field by field.
Without Hyperscan, one Python alternation per field does the same (much slower: a few hundred µs
per 2 KB against a few µs).
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from firestop.detect.base import Finding, Match, Pattern, Source, SystemConfig, TextField, redact
from firestop.ledger.schemas import InteractionIn

hyperscan: Any
try:
    import hyperscan
except ImportError:  # pragma: no cover - only on platforms without the wheel
    hyperscan = None

log = logging.getLogger(__name__)

DETECTOR_ID = "policy_terms"
_SEVERITIES = frozenset({"SEV1", "SEV2", "SEV3", "SEV4"})
_ALL_SOURCES = frozenset(Source)
_MAX_MATCHERS = 256


@dataclass(slots=True, frozen=True)
class TermList:
    name: str
    terms: tuple[str, ...]
    sources: frozenset[Source]


def _term_regex(term: str) -> str:
    # Whole word by lookaround rather than \b so that terms starting or ending with a symbol
    # ("C++", "$0 fee") still match only on their own.
    return r"(?<!\w)" + r"\s+".join(re.escape(word) for word in term.split()) + r"(?!\w)"


# Characters beyond ASCII that Python's case-insensitive matching takes for an ASCII letter:
# "İ" and "ı" for "i", the long s for "s", the Kelvin sign for "k" (the tests check this against
# every code point). A text holding one may match a term that no byte prefilter finds.
_FOLDS_TO_ASCII = ("\u0130", "\u0131", "\u017f", "\u212a")
# One or more bytes that are not printable ASCII other than the space: every UTF-8 byte of a
# character beyond ASCII, and every whitespace character Python's \s takes.
_OTHER_BYTES = "[^!-~]+"
_PRINTABLE_RUN = re.compile(r"[!-~]+")


def _has_fold(text: str) -> bool:
    # Four substring searches are much cheaper than a regular expression or a generator here.
    return "\u0130" in text or "\u0131" in text or "\u017f" in text or "\u212a" in text


def term_prefilters(term: str) -> tuple[str, ...]:
    """Byte-mode Hyperscan expressions (caseless) that all match wherever _term_regex(term) does.

    The term's runs of printable ASCII — its words, and the ASCII pieces of words with other
    letters — each a literal: literals compile tens of times faster than expressions with a
    class between the words (each system's database is compiled when its first interaction
    arrives, in the ingest path), and requiring every word of a phrase is nearly as selective as
    the phrase. Python confirms the whole term. The few characters beyond ASCII that Python
    takes for an ASCII letter make every term a candidate (see ``find``), and a term with no
    ASCII at all is a run of bytes beyond ASCII.
    """
    runs = [run for word in term.split() for run in _PRINTABLE_RUN.findall(word)]
    if not runs:
        return (_OTHER_BYTES,)
    # One- and two-letter pieces ("in", "is") occur every few bytes and cost Hyperscan more than
    # they filter: left out, unless there is nothing longer.
    kept = [run for run in runs if len(run) >= 3] or [max(runs, key=len)]
    return tuple(dict.fromkeys(re.escape(run) for run in kept))


def parse_lists(raw: Any) -> tuple[TermList, ...]:
    """The valid lists of a ``policy_terms.lists`` setting; malformed entries are skipped."""
    if not isinstance(raw, Mapping):
        return ()
    lists: list[TermList] = []
    for name, spec in raw.items():
        if not isinstance(spec, Mapping) or not isinstance(spec.get("terms"), list | tuple):
            log.warning("policy_terms list %r has no list of terms; ignored", name)
            continue
        terms = tuple(
            dict.fromkeys(" ".join(t.split()) for t in spec["terms"] if isinstance(t, str))
        )
        terms = tuple(t for t in terms if t)
        wanted = spec.get("sources")
        if isinstance(wanted, str):
            wanted = [wanted]
        if wanted:
            sources = frozenset(Source(s) for s in wanted if s in Source.__members__)
            if len(sources) != len(set(wanted)):
                log.warning("policy_terms list %r names unknown sources: %r", name, wanted)
        else:
            sources = _ALL_SOURCES
        if terms and sources:
            lists.append(TermList(str(name), terms, sources))
    return tuple(lists)


class _Matcher:
    """All the terms of one set of lists, compiled once."""

    def __init__(self, lists: tuple[TermList, ...], engine: str) -> None:
        self.lists = lists
        self.terms = tuple(dict.fromkeys(t for tl in lists for t in tl.terms))
        index = {t: i for i, t in enumerate(self.terms)}
        self.list_terms = tuple(frozenset(index[t] for t in tl.terms) for tl in lists)
        self.sources = frozenset(s for tl in lists for s in tl.sources)
        self.every_source = self.sources == _ALL_SOURCES
        flags = re.IGNORECASE
        self.exact = tuple(re.compile(_term_regex(t), flags) for t in self.terms)
        # Each distinct prefilter once; a term is a candidate when all of its own were found.
        pieces = [term_prefilters(t) for t in self.terms]
        self.prefilters = tuple(dict.fromkeys(p for ps in pieces for p in ps))
        number = {p: i for i, p in enumerate(self.prefilters)}
        self.needs = tuple(frozenset(number[p] for p in ps) for ps in pieces)
        terms_of: list[list[int]] = [[] for _ in self.prefilters]
        for t, ps in enumerate(pieces):
            for p in ps:
                terms_of[number[p]].append(t)
        self.terms_of = tuple(tuple(ts) for ts in terms_of)
        self._db: Any = None
        self._any: re.Pattern[str] | None = None
        self._local = threading.local()
        if engine != "re" and hyperscan is not None:
            self._db = self._compile()
        else:
            # Longest first, so that a phrase wins over a term that is its prefix.
            ordered = sorted(range(len(self.terms)), key=lambda i: -len(self.terms[i]))
            self._any = re.compile(
                "|".join(f"(?P<t{i}>{_term_regex(self.terms[i])})" for i in ordered), flags
            )

    def _compile(self) -> Any:
        assert hyperscan is not None
        # Byte mode: the prefilters are plain bytes (see term_prefilters), which compile and scan
        # faster than the exact expressions in UTF-8 mode.
        flags = hyperscan.HS_FLAG_SINGLEMATCH | hyperscan.HS_FLAG_CASELESS
        db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
        db.compile(
            expressions=[p.encode() for p in self.prefilters],
            ids=list(range(len(self.prefilters))),
            elements=len(self.prefilters),
            flags=[flags] * len(self.prefilters),
        )
        return db

    def find(
        self, fields: Sequence[TextField]
    ) -> dict[tuple[int, int], list[tuple[int, int, int]]]:
        """(field index, term index) → [(start, end, term)] for every whole-word match."""
        if self.every_source:
            eligible = list(range(len(fields)))
        else:
            eligible = [i for i, f in enumerate(fields) if f.source in self.sources]
        found: dict[tuple[int, int], list[tuple[int, int, int]]] = {}
        if not eligible:
            return found
        if self._any is not None:
            for i in eligible:
                for m in self._any.finditer(fields[i].text):
                    term = int(next(k for k, v in m.groupdict().items() if v is not None)[1:])
                    found.setdefault((i, term), []).append((m.start(), m.end(), term))
            return found
        # The words of a term may turn up in different fields; Python then finds nothing, field
        # by field.
        if len(eligible) == 1:
            joined = fields[eligible[0]].text
        else:
            joined = "\n\x00\n".join(fields[i].text for i in eligible)
        if not joined.isascii() and _has_fold(joined):
            candidates: Iterable[int] = range(len(self.terms))  # "riſk free": only Python can tell
        else:
            hits = self._prefilter_hits(joined)
            if not hits:
                return found
            candidates = sorted(
                {t for p in hits for t in self.terms_of[p] if self.needs[t] <= hits}
            )
        for term in candidates:
            exact = self.exact[term]
            for i in eligible:
                for m in exact.finditer(fields[i].text):
                    found.setdefault((i, term), []).append((m.start(), m.end(), term))
        return found

    def _prefilter_hits(self, joined: str) -> set[int]:
        """The indexes of the prefilters Hyperscan finds in ``joined``."""
        hits: set[int] = set()

        def on_match(pid: int, _start: int, _end: int, _flags: int, _ctx: object) -> None:
            hits.add(pid)

        # One scan over every eligible field (a call costs more than a short field's bytes).
        self._db.scan(joined.encode("utf-8", "surrogatepass"), on_match, scratch=self._scratch())
        return hits

    def _scratch(self) -> Any:
        scratch = getattr(self._local, "scratch", None)
        if scratch is None:
            scratch = hyperscan.Scratch(self._db)
            self._local.scratch = scratch
        return scratch


class PolicyTerms:
    id = DETECTOR_ID

    def __init__(self, *, engine: str = "auto") -> None:
        self.engine = engine
        self._lock = threading.Lock()
        # Keyed by the parsed lists; a second map by the settings object's identity skips even
        # the parsing for the long-lived, cached configuration of each system.
        self._matchers: dict[tuple[TermList, ...], _Matcher] = {}
        self._by_identity: dict[int, tuple[object, _Matcher | None]] = {}

    def patterns(self) -> Sequence[Pattern]:
        return ()

    def matcher(self, raw: Any) -> _Matcher | None:
        seen = self._by_identity.get(id(raw))
        if seen is not None and seen[0] is raw:
            return seen[1]
        lists = parse_lists(raw)
        matcher: _Matcher | None = None
        if lists:
            with self._lock:
                matcher = self._matchers.get(lists)
                if matcher is None:
                    if len(self._matchers) >= _MAX_MATCHERS:
                        self._matchers.clear()
                    matcher = _Matcher(lists, self.engine)
                    self._matchers[lists] = matcher
        with self._lock:
            if len(self._by_identity) >= _MAX_MATCHERS:
                self._by_identity.clear()
            # Holding ``raw`` keeps its id from being reused by another object.
            self._by_identity[id(raw)] = (raw, matcher)
        return matcher

    def inspect(
        self,
        record: InteractionIn,
        fields: Sequence[TextField],
        matches: Sequence[Match],
        config: SystemConfig,
    ) -> list[Finding]:
        raw = config.setting(DETECTOR_ID, "lists", None)
        if not raw:
            return []
        matcher = self.matcher(raw)
        if matcher is None:
            return []
        found = matcher.find(fields)
        if not found:
            return []
        specs: Mapping[str, Any] = raw
        findings: list[Finding] = []
        for li, tl in enumerate(matcher.lists):
            wanted = matcher.list_terms[li]
            per_field: dict[int, list[tuple[int, int, int]]] = {}
            for (fi, term), spans in found.items():
                if term in wanted and fields[fi].source in tl.sources:
                    per_field.setdefault(fi, []).extend(spans)
            spec = specs.get(tl.name, {})
            for fi, spans in sorted(per_field.items()):
                spans.sort()
                findings.append(self._finding(fields[fi], tl, spans, matcher, spec))
        return findings

    def _finding(
        self,
        item: TextField,
        tl: TermList,
        spans: list[tuple[int, int, int]],
        matcher: _Matcher,
        spec: Mapping[str, Any],
    ) -> Finding:
        start, end, _ = spans[0]
        severity = spec.get("severity")
        if severity not in _SEVERITIES:
            severity = "SEV3"
        category = spec.get("category")
        if not isinstance(category, str) or not category:
            # The system saying it is harmful output; anyone else bringing the term in is use
            # the system's approval does not cover.
            output = item.source in (Source.output, Source.assistant, Source.tool_arguments)
            category = "harmful_output" if output else "prohibited_use"
        terms = list(dict.fromkeys(matcher.terms[t] for _, _, t in spans))
        where = "the model's output" if item.source is Source.output else item.source.value
        return Finding(
            detector=DETECTOR_ID,
            rule=f"{DETECTOR_ID}.{tl.name}",
            title=f"Term from the {tl.name!r} list in {where}",
            path=item.path,
            start=start,
            end=end,
            # The matched text may itself be confidential (a project code name): redacted.
            excerpt=redact(item.text, start, end, f"term:{tl.name}"),
            severity=severity,
            category=category,
            group=item.source.value,
            detail={"list": tl.name, "terms": terms, "count": len(spans)},
        )


DETECTOR = PolicyTerms()
