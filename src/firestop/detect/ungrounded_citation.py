"""Citations in the model's output that nothing the model was given supports.

A retrieval-augmented answer that cites a URL, a court decision, a policy or knowledge-base id,
or a numbered source, is only as good as that citation; one that none of the interaction's
sources contains was most likely made up. Each kind is a rule:

``ungrounded_citation.url``
    An ``http(s)`` URL. URLs compare normalised: scheme and host lower-cased, default ports,
    fragments and trailing slashes dropped. A URL without a query also matches a source URL
    that has one (citing a page less precisely is not inventing it), and a site's bare root
    matches any source on that host. Hosts in the setting ``allow_hosts`` (the organisation's
    own site, say) are always accepted.
``ungrounded_citation.legal``
    A reporter citation ("123 F.3d 456", "410 U.S. 113", "2019 WL 1234567"), a UK neutral
    citation ("[2019] UKSC 12"), a docket number ("No. 1:19-cv-01234") or a case name
    ("Smith v. Jones"). They compare with spaces and punctuation ignored, and case names on the
    party names next to the "v.".
``ungrounded_citation.document_id``
    A policy or document id such as ``POL-1234``, ``CVE-2024-3094`` or ``KB0012345``; prefixes in
    ``ignore_id_prefixes`` (algorithm and standard names like SHA-256 and ISO-9001 by default)
    are not ids. Extra id shapes can be added as regular expressions in ``id_patterns``.
``ungrounded_citation.reference_marker``
    "[3]", "[^3]" or "[doc3]" markers numbered beyond the count of retrieved sources.

What counts as a source: the retrieved documents (uri, id, title, content) and, because they are
where an agent's search results and the user's own links arrive, tool results, the user's
messages and the system instructions. An interaction with neither retrieval nor tool results has
nothing to be grounded in; it is only checked when the setting ``require_grounding`` is true (a
system that must always answer from its sources), default false — otherwise every answer of a
plain chat assistant that mentions a URL would be a finding.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from firestop.detect.base import (
    Finding,
    Match,
    Pattern,
    Source,
    SystemConfig,
    TextField,
    redact,
)
from firestop.ledger.schemas import InteractionIn

DETECTOR_ID = "ungrounded_citation"

# Case-insensitive by character classes rather than a flag: a pattern that starts with a class
# lets Python skip ahead to the next "h", where IGNORECASE would try every position.
_URL = re.compile(r"[Hh][Tt][Tt][Pp][Ss]?://[^\s<>\"'`)\]}|\\]+")
_MAX_CHECKED = 200  # distinct citations checked per output
_NUMBER = re.compile(r"[0-9]+")
_FENCE = re.compile("```")
# Digits are written [0-9], not \d (which in Python also takes other scripts' digits): the
# prefilters below can then be exact supersets, as Hyperscan's byte mode only knows ASCII.
_REPORTER = re.compile(
    r"\b[0-9]{1,4} (?:U\.\s?S\.|S\.\s?Ct\.|L\.\s?Ed\.(?:\s?2d)?|F\.(?:\s?(?:2d|3d|4th))?"
    r"|F\.\s?Supp\.(?:\s?(?:2d|3d))?|F\.\s?App'x|B\.R\.|A\.(?:\s?(?:2d|3d))?|P\.(?:\s?(?:2d|3d))?"
    r"|N\.E\.(?:\s?(?:2d|3d))?|N\.W\.(?:\s?2d)?|S\.E\.(?:\s?2d)?|S\.W\.(?:\s?(?:2d|3d))?"
    r"|So\.(?:\s?(?:2d|3d))?|Cal\.\s?Rptr\.(?:\s?(?:2d|3d))?|N\.Y\.S\.(?:\s?(?:2d|3d))?"
    r"|U\.S\.L\.W\.|WL) [0-9]{1,7}\b"
    r"|\[(?:19|20)[0-9]{2}\] (?:UKSC|UKPC|UKHL|EWCA (?:Civ|Crim)|EWHC|UKUT|UKFTT|EWFC|CSIH|CSOH"
    r"|IESC|IEHC|SGCA|HCA|SCC) [0-9]{1,5}\b"
    r"|(?:(?:Case|Docket|Civil Action) )?\bNo\. ?[0-9]{1,2}:[0-9]{2}-[a-z]{2,4}-[0-9]{3,6}"
    r"(?:-[A-Z]{2,4})?\b"
    r"|\b[0-9]{1,2}:[0-9]{2}-(?:cv|cr|mc|bk|md|ap)-[0-9]{3,6}\b"
)
# What every match of _REPORTER contains, as plain bytes: the number and the first letters of a
# reporter (whatever the \s? after them takes), "[2019] X", or the docket's "1:19-cv-".
_REPORTER_PREFILTER = (
    r"[0-9] (?:[USLFBAPN]\.|So\.|Cal\.|WL [0-9])"
    r"|\[(?:19|20)[0-9]{2}\] [A-Z]"
    r"|[0-9]:[0-9]{2}-[a-z]{2,4}-"
)
_CASE_NAME = re.compile(r"\b([A-Z][\w&'.-]*) v\. ([A-Z][\w&'-]*)")
# The first party's name may hold letters Hyperscan's byte mode does not count as \w ("Müller"):
# only the " v. X" every match has is looked for.
_CASE_NAME_PREFILTER = r" v\. [A-Z]"
_SERVICE_IDS = ("KB", "INC", "CHG", "RITM", "PRB", "REQ", "SCTASK")
# Ids are not in the shared scan: order, claim and policy numbers fill about a quarter of all
# fields (tool results, documents, arguments), and confirming each of those in Python cost more
# than the rest of the detector, although only the output's ids matter. This runs on the output
# alone. It starts with a character class so that Python jumps from capital to capital (a leading
# \b would make it try every position); the look-behind then asks for a word start, and the
# service prefixes are matched after their first letter: "(?<=K)B" is "KB".
_DOC_ID = re.compile(
    r"[A-Z](?<!\w[A-Z])(?:"
    r"(?:" + "|".join(f"(?<={p[0]}){p[1:]}" for p in _SERVICE_IDS) + r")[0-9]{5,}\b"
    r"|[A-Z0-9]{1,5}-[0-9]{3,8}(?:-[0-9]{1,8})?\b)"
)
# Every _DOC_ID match holds one of these: a dash and three digits (the first dash of a
# "POL-1234"-style id, two to six characters after the id's start), or, at the id's start, a
# service prefix and digits. The dash is found at memory speed (a literal first character);
# the service ids come from the shared scan (pattern "service_id"), as Python has no fast way
# to look for several words at once. Either is far cheaper than _DOC_ID itself, which stops at
# every capital letter of the output.
_DASH_DIGITS = re.compile(r"-[0-9]{3}")
SERVICE_ID = "(?:" + "|".join(_SERVICE_IDS) + ")[0-9]{5}"
_DASH_REACH = 6  # a dash is at most this far after the start of the id that holds it


def document_ids(text: str, services: Sequence[int] = ()) -> list[re.Match[str]]:
    """``list(_DOC_ID.finditer(text))``, searching only from near the places an id must hold.

    ``services`` are the starts of SERVICE_ID's matches in ``text``, in order (no two of them
    can overlap, so finditer's are all of them). Finditer returns the leftmost match at or after
    a position, then carries on from its end. Every match starting at or after ``pos`` starts
    at most ``_DASH_REACH`` characters before a dash trigger found searching from ``pos + 2``,
    or at a service start at or after ``pos``; so searching from just before the first such
    trigger finds that same leftmost match, and with no trigger left there is no match left.
    ``search`` keeps the whole text in view (a look-behind still sees before ``pos``, and the
    end of the text is its real end), and each search covers text no earlier one did, bar a
    few characters: never slower than one plain pass, and usually next to nothing.
    """
    found: list[re.Match[str]] = []
    end = len(text)
    pos = 0
    next_service = 0
    while True:
        dash = _DASH_DIGITS.search(text, pos + 2)
        lo = dash.start() - _DASH_REACH if dash is not None else end
        while next_service < len(services) and services[next_service] < pos:
            next_service += 1
        if next_service < len(services) and services[next_service] < lo:
            lo = services[next_service]
        if lo >= end:
            return found
        m = _DOC_ID.search(text, max(pos, lo))
        if m is None:
            return found
        found.append(m)
        pos = m.end()


_MARKER = re.compile(
    r"(?<!\w)\[\^?([0-9]{1,3}(?:\s*[,\x2d" + "\u2013" + r"]\s*[0-9]{1,3})*)\](?!\()"
    r"|\[(?:doc|source|ref)\s?([0-9]{1,3})\]",
    re.IGNORECASE,
)
# Every marker starts like this; the en dash of a range (not ASCII) comes later.
_MARKER_PREFILTER = r"\[(?:\^?[0-9]|doc|source|ref)"
_DEFAULT_IGNORED = (
    "SHA",
    "AES",
    "RSA",
    "ISO",
    "IEC",
    "UTF",
    "MD",
    "HMAC",
    "CRC",
    "COVID",
    "SARS",
    "TLS",
    "HTTP",
    "IPV",
    "GPT",
    "PCI",
    "SOC",
    "EN",
    "ES",
    "DIN",
    "BS",
)
_DEFAULT_PORTS = {"http": 80, "https": 443}
# Looking a member up on an enum class is a slow, Python-level attribute access: done once here.
_OUTPUT = Source.output
_MAX_CONFIGS = 256  # configurations whose settings are kept (a few per system at a time)


def normalise_url(url: str) -> str:
    """scheme://host[:port]/path?query with case, default port, fragment, trailing / settled."""
    url = url.rstrip(".,;:!?'\"")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return url.lower()
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    netloc = host if port in (None, _DEFAULT_PORTS.get(scheme)) else f"{host}:{port}"
    path = parts.path.rstrip("/")
    return urlunsplit((scheme, netloc, path, parts.query, ""))


# The rest of a party's name up to the reporter citation: "Southern Airlines Co., ".
_PARTY_TAIL = re.compile(r"(?:\s+(?:[A-Z][\w&'.-]*|of|and|&))*,?\s*")
_CHAINED = re.compile(r"\[\^?\d{1,3}\]$")


def _indexing(text: str, start: int) -> bool:
    """Whether the bracket at ``start`` indexes something (``rows[2][5]``), not cites.

    Citations chain ("[1][3]"), so a bracket right after another is followed back along the
    chain; an index chain starts right after a name.
    """
    for _ in range(16):  # a longer chain of brackets is a table or code, not citations
        if start == 0 or text[start - 1] != "]":
            break
        chained = _CHAINED.search(text, max(0, start - 8), start)
        if chained is None:
            return True
        start = chained.start()
    else:
        return True
    return start > 0 and (text[start - 1].isalnum() or text[start - 1] == "_")


# Every ASCII byte that is not a lower-case letter or a digit.
_NOT_ALNUM_BYTES = bytes(b for b in range(128) if not (48 <= b <= 57 or 97 <= b <= 122))


def _squeeze(text: str) -> str:
    """The text lower-cased with everything but a–z and 0–9 dropped ("No. 1:19-cv" → "no119cv").

    The same as re.sub("[^a-z0-9]+", "", text.lower()), but dropping the non-ASCII characters by
    encoding and the rest with bytes.translate is many times faster on a joined corpus.
    """
    return text.lower().encode("ascii", "ignore").translate(None, _NOT_ALNUM_BYTES).decode()


@dataclass(slots=True, frozen=True)
class _Settings:
    """One system's settings for this detector, read once per configuration object."""

    required: bool
    allow_hosts: frozenset[str]
    ignored_prefixes: frozenset[str]
    extra_ids: re.Pattern[str] | None


class _Corpus:
    """What the interaction's sources contain; each view is built only when a citation needs it.

    Most grounded citations appear verbatim in a source, which a substring search of the joined
    text settles; normalising every URL or squeezing the text is the slow path.
    """

    def __init__(self, record: InteractionIn) -> None:
        self.record = record
        parts: list[str] = [record.instructions]
        for doc in record.retrieval:
            parts += [doc.content, doc.title or "", doc.id or "", doc.uri or ""]
        parts += [c.result for c in record.tool_calls]
        parts += [
            m.content for m in record.messages if m.role in ("user", "system", "developer", "tool")
        ]
        self.parts = [p for p in parts if p]
        self._text: str | None = None
        self._squeezed: str | None = None
        self._urls: tuple[frozenset[str], frozenset[str], frozenset[str]] | None = None

    @property
    def text(self) -> str:
        if self._text is None:
            self._text = "\n".join(self.parts)
        return self._text

    def has(self, needle: str) -> bool:
        return any(needle in part for part in self.parts)

    @property
    def squeezed(self) -> str:
        if self._squeezed is None:
            self._squeezed = _squeeze(self.text)
        return self._squeezed

    def urls(self) -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
        """Normalised source URLs; the same without query (pages); their hosts."""
        if self._urls is None:
            urls = {normalise_url(u) for u in _URL.findall(self.text)}
            urls |= {normalise_url(d.uri) for d in self.record.retrieval if d.uri}
            pages = frozenset(u.split("?", 1)[0] for u in urls)
            hosts = frozenset(urlsplit(u).hostname or "" for u in urls)
            self._urls = (frozenset(urls), pages, hosts)
        return self._urls


@dataclass(slots=True)
class _Citation:
    kind: str
    value: str
    start: int
    end: int
    numbers: tuple[int, ...] = ()  # a reference marker's source numbers


class UngroundedCitation:
    id = DETECTOR_ID

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._extra: dict[tuple[str, ...], re.Pattern[str] | None] = {}
        # By the configuration object's identity (configs are long-lived and cached, and a
        # SystemConfig holds dicts, so it cannot be hashed); the object itself is kept beside
        # its settings so that its id cannot be reused by another while the entry exists.
        self._settings: dict[int, tuple[SystemConfig, _Settings]] = {}

    def patterns(self) -> Sequence[Pattern]:
        # The shared scan tells at memory speed whether the output holds anything citation-like,
        # and it looks in the output alone: matches anywhere else would be thrown away. URLs and
        # ids are left out: searching the output for them in Python is cheaper than confirming
        # Hyperscan candidates. Service ids ("KB0012345") are the exception: they are rare,
        # and their starts let document_ids skip the output's text. Each prefilter is plain
        # bytes, so Hyperscan never needs UTF-8 mode.
        output = frozenset({_OUTPUT})
        return (
            Pattern("legal", _REPORTER.pattern, prefilter=_REPORTER_PREFILTER, sources=output),
            Pattern(
                "case_name", _CASE_NAME.pattern, prefilter=_CASE_NAME_PREFILTER, sources=output
            ),
            Pattern(
                "reference_marker",
                _MARKER.pattern,
                caseless=True,
                prefilter=_MARKER_PREFILTER,
                sources=output,
            ),
            # Not a citation by itself: where document_ids must look for service ids.
            Pattern("service_id", SERVICE_ID, prefilter=SERVICE_ID, sources=output),
        )

    def inspect(
        self,
        record: InteractionIn,
        fields: Sequence[TextField],
        matches: Sequence[Match],
        config: SystemConfig,
    ) -> list[Finding]:
        output = record.output
        if not output:
            return []
        settings = self.settings(config)
        required = settings.required
        if not required and not record.retrieval:
            # A plain loop: this runs for nearly every interaction, and a generator costs more
            # than the few tool calls it would look at.
            for call in record.tool_calls:
                if call.result:
                    break
            else:
                return []
        mine = [m for m in matches if fields[m.field].source is _OUTPUT] if matches else matches
        citations = self._citations(output, mine, settings)
        if not citations:
            return []
        corpus: _Corpus | None = None  # built for the first citation that needs it
        findings: list[Finding] = []
        markers: list[_Citation] = []
        seen: set[tuple[str, str]] = set()
        # Numbered markers refer to the retrieved list; with none (an agent citing its own search
        # results) there is nothing to count against unless the system must always be grounded.
        count_markers = bool(record.retrieval) or required
        for c in citations:
            if c.kind == "reference_marker":
                if not count_markers:
                    continue
                if max(c.numbers) > len(record.retrieval):
                    markers.append(c)
                continue
            key = (c.kind, c.value)
            # Each check searches every source: a hostile output with thousands of distinct
            # citations gets its first ones checked, and at most 20 findings.
            if key in seen or len(seen) >= _MAX_CHECKED or len(findings) >= 20:
                continue
            seen.add(key)
            if c.kind == "url" and any(
                c.value == d.uri or c.value in d.content for d in record.retrieval
            ):
                continue  # the usual case, settled before anything is joined or normalised
            if corpus is None:
                corpus = _Corpus(record)
            if self._grounded(c, corpus, settings.allow_hosts):
                continue
            findings.append(self._finding(output, c, record))
        if markers:
            findings.append(self._markers(output, markers, record))
        return findings

    # -- finding citations -----------------------------------------------------------------

    def _citations(
        self, output: str, matches: Sequence[Match], settings: _Settings
    ) -> list[_Citation]:
        found: list[_Citation] = []
        if "://" in output:
            for u in _URL.finditer(output):
                url = u.group(0).rstrip(".,;:!?'\"")
                found.append(_Citation("url", url, u.start(), u.start() + len(url)))
        legal_spans = [(m.start, m.end) for m in matches if m.pattern == "legal"]
        services = sorted(m.start for m in matches if m.pattern == "service_id")
        fences: list[int] | None = None
        markers = 0
        for m in matches:
            if m.pattern == "service_id":
                continue
            value = output[m.start : m.end]
            if m.pattern == "legal":
                found.append(_Citation(m.pattern, value, m.start, m.end))
            elif m.pattern == "case_name":
                # "Smith v. Jones, 123 F.3d 456": the reporter citation right after the name
                # identifies the case; judging the name as well would report one citation twice.
                if any(
                    0 <= a - m.end <= 80 and _PARTY_TAIL.fullmatch(output, m.end, a)
                    for a, _ in legal_spans
                ):
                    continue
                found.append(_Citation(m.pattern, value, m.start, m.end))
            elif m.pattern == "reference_marker":
                markers += 1
                if markers > _MAX_CHECKED:
                    continue  # enough to know whether the numbering runs past the sources
                if fences is None:
                    fences = [f.start() for f in _FENCE.finditer(output)] if "```" in output else []
                if sum(1 for f in fences if f < m.start) % 2:
                    continue  # inside a code block: an index, not a citation
                if _indexing(output, m.start):
                    continue
                numbers = tuple(int(n) for n in _NUMBER.findall(value))
                if numbers and min(numbers) >= 1:
                    found.append(_Citation("reference_marker", value, m.start, m.end, numbers))
        for d in document_ids(output, services):
            value = d.group(0)
            dash = value.find("-")
            if dash > 0 and value[:dash] in settings.ignored_prefixes:
                continue
            if any(a <= d.start() < b for a, b in legal_spans):
                continue  # "1:19-cv-01234" is a docket, not an id
            found.append(_Citation("document_id", value, d.start(), d.end()))
        if settings.extra_ids is not None:
            for e in settings.extra_ids.finditer(output):
                found.append(_Citation("document_id", e.group(0), e.start(), e.end()))
        return found

    def settings(self, config: SystemConfig) -> _Settings:
        seen = self._settings.get(id(config))
        if seen is not None and seen[0] is config:
            return seen[1]
        ignored = config.setting(DETECTOR_ID, "ignore_id_prefixes", None)
        chosen = _DEFAULT_IGNORED if ignored is None else ignored
        hosts = config.setting(DETECTOR_ID, "allow_hosts", ()) or ()
        settings = _Settings(
            required=bool(config.setting(DETECTOR_ID, "require_grounding", False)),
            allow_hosts=frozenset(str(h).lower() for h in hosts),
            ignored_prefixes=frozenset(str(p).upper() for p in chosen),
            extra_ids=self._extra_ids(config),
        )
        with self._lock:
            if len(self._settings) >= _MAX_CONFIGS:
                self._settings.clear()  # configs are replaced every few seconds: drop the old
            self._settings[id(config)] = (config, settings)
        return settings

    def _extra_ids(self, config: SystemConfig) -> re.Pattern[str] | None:
        raw = config.setting(DETECTOR_ID, "id_patterns", ()) or ()
        if not raw:
            return None
        key = tuple(str(p) for p in raw)
        if key in self._extra:
            return self._extra[key]
        with self._lock:
            if key not in self._extra:
                try:
                    self._extra[key] = re.compile("|".join(f"(?:{p})" for p in key))
                except re.error:
                    self._extra[key] = None  # a bad setting must not break the detector
            return self._extra[key]

    # -- grounding -------------------------------------------------------------------------

    @staticmethod
    def _grounded(c: _Citation, corpus: _Corpus, allow: frozenset[str]) -> bool:
        # A citation a source holds verbatim is grounded under every rule below (each compares
        # a normalised form, and normalising keeps containment); most are, and this avoids
        # squeezing or normalising the sources at all.
        if corpus.has(c.value):
            return True
        if c.kind == "url":
            url = normalise_url(c.value)
            parts = urlsplit(url)
            host = parts.hostname or ""
            urls, pages, hosts = corpus.urls()
            if host in allow or url in urls:
                return True
            if not parts.query and url in pages:
                return True
            return not parts.path and host in hosts
        if c.kind == "case_name":
            # Party names only: "In Smith v. Jones" must match a source's "Smith v. Jones Ltd".
            m = _CASE_NAME.match(c.value)
            if m is None:
                return False
            return f"{_squeeze(m.group(1))}v{_squeeze(m.group(2))}" in corpus.squeezed
        if c.kind == "legal":
            return _squeeze(c.value) in corpus.squeezed
        return _squeeze(c.value) in corpus.squeezed

    # -- reporting -------------------------------------------------------------------------

    def _finding(self, output: str, c: _Citation, record: InteractionIn) -> Finding:
        kind = "legal" if c.kind == "case_name" else c.kind
        detail: dict[str, Any] = {"kind": c.kind, "sources": len(record.retrieval)}
        if c.kind == "url":
            parts = urlsplit(normalise_url(c.value))
            host = parts.hostname or ""
            # The host says enough; a path or query may carry an id or a token.
            label, group = f"url {host}", f"url:{host}"
            detail.update(host=host, has_path=bool(parts.path), has_query=bool(parts.query))
            title = f"The output cites a URL on {host} that no source contains"
        else:
            label, group = f"{c.kind}: {c.value}", kind
            detail["citation"] = c.value
            what = {"legal": "a legal citation", "case_name": "a case", "document_id": "an id"}
            title = f"The output cites {what[c.kind]} that no source contains: {c.value}"
        return Finding(
            detector=DETECTOR_ID,
            rule=f"{DETECTOR_ID}.{kind}",
            title=title,
            path="output",
            start=c.start,
            end=c.end,
            excerpt=redact(output, c.start, c.end, label),
            severity="SEV3",
            category="harmful_output",
            group=group,
            detail=detail,
        )

    def _markers(self, output: str, markers: list[_Citation], record: InteractionIn) -> Finding:
        first = markers[0]
        sources = len(record.retrieval)
        values = list(dict.fromkeys(m.value for m in markers))
        return Finding(
            detector=DETECTOR_ID,
            rule=f"{DETECTOR_ID}.reference_marker",
            title=f"The output cites source {first.value} but was given {sources} source(s)",
            path="output",
            start=first.start,
            end=first.end,
            excerpt=redact(output, first.start, first.end, f"marker {first.value}"),
            # A numbering slip is a weak signal alone; it matters when it recurs.
            severity="SEV4",
            category="harmful_output",
            group="reference_marker",
            detail={"markers": values[:20], "count": len(markers), "sources": sources},
        )


DETECTOR = UngroundedCitation()
