from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firestop.detect.base import SystemConfig
from firestop.detect.engine import ContentEngine
from firestop.detect.scan import byte_safe, hyperscan
from firestop.detect.ungrounded_citation import (
    _DOC_ID,
    DETECTOR,
    SERVICE_ID,
    _squeeze,
    document_ids,
    normalise_url,
)
from firestop.ledger.schemas import InteractionIn

ENGINES = {"hyperscan": ContentEngine([DETECTOR]), "re": ContentEngine([DETECTOR], engine="re")}

DOCS = [
    {
        "id": "POL-1234",
        "uri": "https://Intranet.Example.com/policies/leave?version=3#section-2",
        "title": "Annual leave policy",
        "content": "Staff accrue 25 days of annual leave. See also KB0012345 and "
        "https://hr.example.com/forms/leave-request/.",
    },
    {
        "id": "case-notes-7",
        "title": "Precedents",
        "content": "The court relied on Smith v. Jones Holdings Ltd, 123 F. 3d 456 (9th Cir. "
        "1999), and on [2019] UKSC 12. Docket No. 1:19-cv-01234.",
    },
]


def config(**settings: Any) -> SystemConfig:
    return SystemConfig(1, "kb", "medium", "raw", (), (), {}, {"ungrounded_citation": settings})


def record(
    output: str, retrieval: list[dict[str, Any]] | None = None, **extra: Any
) -> InteractionIn:
    return InteractionIn.model_validate(
        {
            "system": "kb",
            "started_at": "2026-01-01T00:00:00Z",
            "output": output,
            "retrieval": DOCS if retrieval is None else retrieval,
            **extra,
        }
    )


@pytest.fixture(params=sorted(ENGINES))
def engine(request: pytest.FixtureRequest) -> ContentEngine:
    return ENGINES[request.param]


@pytest.mark.parametrize(
    "output",
    [
        "You get 25 days (POL-1234) [1]. Details: https://intranet.example.com/policies/leave "
        "and https://INTRANET.example.com:443/policies/leave/?version=3#top [2].",
        "File the form at https://hr.example.com/forms/leave-request, see KB0012345.",
        "Smith v. Jones, 123 F.3d 456 (9th Cir. 1999) applies, as does [2019] UKSC 12.",
        "The docket is No. 1:19-cv-01234; start at https://intranet.example.com/.",
        "Hashes use SHA-256 and dates follow ISO-8601; version 2024-06-01 of the guide.",
        "Read the leave policy.[1][2]",
        "```python\nrows[5] = data[12]\n```\nThat is the code.",
        "Plain answer with no citations at all.",
    ],
)
def test_citations_of_what_was_retrieved_are_grounded(engine: ContentEngine, output: str) -> None:
    assert engine.run(record(output), config()) == []


def test_a_made_up_url(engine: ContentEngine) -> None:
    output = "See https://intranet.example.com/policies/sick-leave?token=s3cr3t for details."
    [f] = engine.run(record(output), config())
    assert f.rule == "ungrounded_citation.url"
    assert f.category == "harmful_output"
    assert f.group == "url:intranet.example.com"
    assert f.detail["has_query"] is True
    assert (
        output[f.start : f.end] == "https://intranet.example.com/policies/sick-leave?token=s3cr3t"
    )  # type: ignore[misc]
    # Only the host is shown: a path or query may carry an id or a token.
    assert "s3cr3t" not in f.excerpt and "sick-leave" not in f.excerpt
    assert "[url intranet.example.com]" in f.excerpt


def test_a_url_with_a_different_query_is_not_the_retrieved_page(engine: ContentEngine) -> None:
    [f] = engine.run(record("Use https://intranet.example.com/policies/leave?version=9"), config())
    assert f.rule == "ungrounded_citation.url"


def test_allowed_hosts_and_sources_beyond_retrieval(engine: ContentEngine) -> None:
    output = "Contact https://www.example.org/help or https://docs.vendor.example/a/b."
    assert (
        engine.run(record(output), config(allow_hosts=["www.example.org", "DOCS.vendor.example"]))
        == []
    )
    # A link the user gave, or a tool returned, is not invented either.
    rec = record(
        output,
        messages=[{"role": "user", "content": "Summarise https://www.example.org/help please"}],
        tool_calls=[{"name": "search", "result": "hit: https://docs.vendor.example/a/b"}],
    )
    assert engine.run(rec, config()) == []


def test_fabricated_legal_citations(engine: ContentEngine) -> None:
    output = (
        "See Varghese v. China Southern Airlines Co., 925 F.3d 1339 (11th Cir. 2019), "
        "and Brown v. Board. Also [2021] EWCA Civ 99 and No. 2:20-cv-00042."
    )
    found = engine.run(record(output), config())
    got = sorted((f.rule, f.detail["citation"]) for f in found)
    assert got == [
        ("ungrounded_citation.legal", "925 F.3d 1339"),
        ("ungrounded_citation.legal", "Brown v. Board"),
        ("ungrounded_citation.legal", "No. 2:20-cv-00042"),
        ("ungrounded_citation.legal", "[2021] EWCA Civ 99"),
    ]
    assert all(f.severity == "SEV3" and f.group == "legal" for f in found)
    # "Varghese v. China": the reporter citation after it identifies the case, once.
    assert not any(f.detail["citation"].startswith("Varghese") for f in found)


def test_a_case_name_is_grounded_on_its_parties(engine: ContentEngine) -> None:
    assert engine.run(record("As held in Smith v. Jones, leave accrues."), config()) == []
    [f] = engine.run(record("As held in Smith v. Brown, leave accrues."), config())
    assert f.detail["kind"] == "case_name"


def test_fabricated_document_ids(engine: ContentEngine) -> None:
    output = "Per POL-9999 and KB0099999 (but not SHA-256), also CVE-2024-3094."
    found = engine.run(record(output), config())
    assert sorted(f.detail["citation"] for f in found) == ["CVE-2024-3094", "KB0099999", "POL-9999"]
    assert {f.rule for f in found} == {"ungrounded_citation.document_id"}
    # The ignore list is a setting: with it emptied, SHA-256 reads as an id too.
    found = engine.run(record("Hash with SHA-256."), config(ignore_id_prefixes=[]))
    assert [f.detail["citation"] for f in found] == ["SHA-256"]


def test_extra_id_patterns_from_settings(engine: ContentEngine) -> None:
    settings = config(id_patterns=[r"\bCASE#\d{4}\b", "(unclosed"])  # a bad one is skipped…
    assert engine.run(record("Ref CASE#0042."), settings) == []
    good = config(id_patterns=[r"\bCASE#\d{4}\b"])
    [f] = engine.run(record("Ref CASE#0042."), good)
    assert f.detail["citation"] == "CASE#0042"


def test_reference_markers_beyond_the_sources(engine: ContentEngine) -> None:
    [f] = engine.run(record("Leave is 25 days [1][3], see also [2, 5] and [doc7]."), config())
    assert f.rule == "ungrounded_citation.reference_marker"
    assert f.detail == {"markers": ["[3]", "[2, 5]", "[doc7]"], "count": 3, "sources": 2}
    assert f.severity == "SEV4"


def test_no_retrieval_means_nothing_to_check_unless_grounding_is_required(
    engine: ContentEngine,
) -> None:
    rec = record("See https://made-up.example/x [1] and POL-1.", retrieval=[])
    rec.output = "See https://made-up.example/x [1] and POL-4242."
    assert engine.run(rec, config()) == []
    found = engine.run(rec, config(require_grounding=True))
    assert sorted(f.rule for f in found) == [
        "ungrounded_citation.document_id",
        "ungrounded_citation.reference_marker",
        "ungrounded_citation.url",
    ]


def test_markers_are_not_counted_against_tool_results_alone(engine: ContentEngine) -> None:
    rec = record(
        "Result [4] says so.",
        retrieval=[],
        tool_calls=[{"name": "search", "result": "1. a 2. b 3. c 4. d"}],
    )
    assert engine.run(rec, config()) == []


def test_one_finding_per_distinct_citation(engine: ContentEngine) -> None:
    output = "POL-7777, again POL-7777, and POL-7777."
    assert len(engine.run(record(output), config())) == 1


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("https://Example.COM/a/", "https://example.com/a"),
        ("HTTPS://example.com:443/a#frag", "https://example.com/a"),
        ("http://example.com:80", "http://example.com"),
        ("https://example.com/a?x=1", "https://example.com/a/?x=1"),
    ],
)
def test_url_normalisation(a: str, b: str) -> None:
    assert normalise_url(a) == normalise_url(b)


def test_url_normalisation_keeps_what_matters() -> None:
    assert normalise_url("https://example.com/A") != normalise_url("https://example.com/a")
    assert normalise_url("https://example.com:8443/a") != normalise_url("https://example.com/a")
    assert normalise_url("https://example.com/a?x=1") != normalise_url("https://example.com/a?x=2")


paths = st.from_regex(r"(/[a-z0-9]{1,8}){0,3}", fullmatch=True)


@given(st.from_regex(r"[a-z]{1,10}\.(com|org|example)", fullmatch=True), paths, st.booleans())
def test_any_retrieved_url_cited_in_another_spelling_is_grounded(
    host: str, path: str, slash: bool
) -> None:
    retrieved = f"https://{host}{path}"
    cited = f"HTTPS://{host.upper()}{path}{'/' if slash else ''}#x"
    rec = record(f"Source: {cited}", retrieval=[{"uri": retrieved, "content": "text"}])
    assert ENGINES["hyperscan"].run(rec, config()) == []


# -- speed: prefilters and the output-only id search --------------------------------------


def test_every_pattern_has_a_byte_safe_prefilter() -> None:
    # Hyperscan's UTF-8 mode slows the whole shared database; none of these patterns needs it.
    for p in DETECTOR.patterns():
        assert p.prefilter, p.name
        assert byte_safe(p.prefilter or p.regex), p.name


fragments = st.sampled_from(
    [" ", "\xa0", "\n", "123", "7", "٣", "F.", "3d", "F. Supp.", "U.", "S.", "Ct.", "WL",
     "S.W.", "N.Y.S.", "Cal. Rptr.", "[", "]", "^", "(", "2019", "[2019]", "UKSC", "EWCA Civ",
     "No.", "No. ", "1:19-cv-01234", "2:20-", "cv", "-", ":", "Case", "Docket", "Smith", "Müller",
     "Ölmann", " v. ", "v.", "Jones", "[doc", "[Source", "3", "–", ",", "x", "é", "_",
     # whole citations, some with whitespace beyond ASCII, for the pieces to join or break
     "123 F.3d 456", "410 U.\xa0S. 113", "2019 WL 1234567", "[2019] UKSC 12", "[2021] EWCA Civ 9",
     "No. 1:19-cv-01234", "1:19-cv-01234", "Smith v. Jones", "Müller v. Émile", "[3]", "[^2]",
     "[1,\u20032]", "[1–3]", "[doc7]", "[SOURCE 3]"]
)  # fmt: skip


@pytest.mark.skipif(hyperscan is None, reason="needs the Hyperscan wheel")
@settings(max_examples=300, deadline=None)
@given(st.lists(fragments, max_size=14))
def test_prefilters_never_miss_a_match(parts: list[str]) -> None:
    text = "".join(parts)
    scanner = ENGINES["hyperscan"].scanner
    candidates = {scanner.patterns[i].name for i in scanner.candidates(text)}
    for p in DETECTOR.patterns():
        if re.search(p.regex, text, re.IGNORECASE if p.caseless else 0):
            assert f"ungrounded_citation:{p.name}" in candidates, (p.name, text)


# The id pattern as it reads naturally; _DOC_ID is the same, written to let Python skip ahead.
READABLE_ID = re.compile(
    r"\b(?:KB|INC|CHG|RITM|PRB|REQ|SCTASK)[0-9]{5,}\b"
    r"|\b[A-Z][A-Z0-9]{1,5}-[0-9]{3,8}(?:-[0-9]{1,8})?\b"
)
id_parts = st.sampled_from(
    ["KB", "INC", "CHG", "RITM", "PRB", "REQ", "SCTASK", "POL", "CVE", "K", "B", "-", "12",
     "123", "12345", "0012345", "2024", " ", "é", "_", "a", "X9", ".", "\n"]
)  # fmt: skip


@given(st.lists(id_parts, max_size=12))
def test_the_id_search_finds_what_the_readable_pattern_finds(parts: list[str]) -> None:
    text = "".join(parts)
    spans = [m.span() for m in _DOC_ID.finditer(text)]
    assert spans == [m.span() for m in READABLE_ID.finditer(text)]


whole_ids = st.sampled_from(["ORD-123456", "KB0012345", "2024-2025", "A-1234", "CVE-2024-3094"])


@settings(max_examples=500)
@given(st.lists(id_parts | whole_ids, max_size=16))
def test_the_triggered_id_search_is_finditer(parts: list[str]) -> None:
    # document_ids only searches from near a dash and digits or a service id's start; it must
    # still give exactly what a plain pass gives, matches and all.
    text = "".join(parts)
    services = [m.start() for m in re.finditer(SERVICE_ID, text)]
    got = [(m.span(), m.group(0)) for m in document_ids(text, services)]
    assert got == [(m.span(), m.group(0)) for m in _DOC_ID.finditer(text)]


def test_service_ids_reach_the_detector_through_the_shared_scan(engine: ContentEngine) -> None:
    rec = record("Raised as INC0012345 and SCTASK0099999; see KB0012345.", retrieval=DOCS)
    found = {f.detail["citation"] for f in engine.run(rec, config())}
    assert found == {"INC0012345", "SCTASK0099999"}


@given(st.text(max_size=80))
def test_squeeze_is_lower_case_letters_and_digits(text: str) -> None:
    assert _squeeze(text) == re.sub("[^a-z0-9]+", "", text.lower())


def test_ids_in_documents_alone_are_not_citations(engine: ContentEngine) -> None:
    # Only the output's ids are judged: one a document holds is grounded, not cited.
    rec = record("Your leave is 25 days.", retrieval=[{"content": "See POL-9999 and KB0099999."}])
    assert engine.run(rec, config()) == []


def test_settings_are_read_once_per_config() -> None:
    first = config(allow_hosts=["Example.org"], ignore_id_prefixes=["abc"])
    settings_ = DETECTOR.settings(first)
    assert DETECTOR.settings(first) is settings_
    assert settings_.allow_hosts == frozenset({"example.org"})
    assert settings_.ignored_prefixes == frozenset({"ABC"})
    assert DETECTOR.settings(config()).ignored_prefixes >= {"SHA", "ISO"}
