from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firestop.detect.base import Source, SystemConfig, TextField
from firestop.detect.engine import ContentEngine
from firestop.detect.policy_terms import (
    _FOLDS_TO_ASCII,
    PolicyTerms,
    _has_fold,
    _term_regex,
    parse_lists,
    term_prefilters,
)
from firestop.detect.scan import byte_safe, hyperscan
from firestop.ledger.schemas import InteractionIn

LISTS: dict[str, Any] = {
    "promises": {
        "terms": ["guaranteed returns", "risk free", "cannot lose"],
        "sources": ["output"],
        "severity": "SEV2",
    },
    "codenames": {"terms": ["Falcon", "Project Nightjar", "C++", "Müller"]},
}


def config(lists: Any = LISTS, **other: Any) -> SystemConfig:
    return SystemConfig(
        1, "advice", "high", "raw", (), (), {}, {"policy_terms": {"lists": lists, **other}}
    )


def record(output: str = "", user: str = "") -> InteractionIn:
    messages = [{"role": "user", "content": user}] if user else []
    return InteractionIn.model_validate(
        {
            "system": "advice",
            "started_at": "2026-01-01T00:00:00Z",
            "messages": messages,
            "output": output,
        }
    )


@pytest.fixture(params=["auto", "re"])
def engine(request: pytest.FixtureRequest) -> ContentEngine:
    # The detector has no shared patterns; the parameter picks its own matcher's engine.
    return ContentEngine([PolicyTerms(engine=request.param)])


def test_terms_match_whole_words_case_insensitively(engine: ContentEngine) -> None:
    [f] = engine.run(record(output="This fund offers GUARANTEED  returns."), config())
    assert f.rule == "policy_terms.promises"
    assert f.path == "output"
    assert f.severity == "SEV2"
    assert f.category == "harmful_output"
    assert f.detail == {"list": "promises", "terms": ["guaranteed returns"], "count": 1}
    text = "This fund offers GUARANTEED  returns."
    assert text[f.start : f.end] == "GUARANTEED  returns"  # type: ignore[misc]
    # The matched text is redacted from the excerpt: a code name may itself be confidential.
    assert "GUARANTEED" not in f.excerpt and "[term:promises]" in f.excerpt


def test_phrases_span_line_breaks_and_symbols_stay_whole(engine: ContentEngine) -> None:
    found = engine.run(record(user="about project\nnightjar and C++ code"), config())
    [f] = found
    assert f.rule == "policy_terms.codenames"
    assert f.detail["terms"] == ["Project Nightjar", "C++"]
    assert f.detail["count"] == 2
    assert f.category == "prohibited_use"  # someone brought the term in; the model did not
    assert f.group == "user"


@pytest.mark.parametrize(
    "text",
    [
        "falconry is an old sport",  # a term inside a longer word
        "the falcons flew",
        "risk-free is hyphenated; risk freely is another phrase",
        "xC++ and C+x are not the term",
        "guaranteed, returns",
    ],
)
def test_near_misses_do_not_match(engine: ContentEngine, text: str) -> None:
    assert engine.run(record(output=text, user=text), config()) == []


def test_sources_restrict_where_a_list_applies(engine: ContentEngine) -> None:
    # "promises" only covers the output; the user saying it is not a finding.
    assert engine.run(record(user="is this risk free?"), config()) == []
    [f] = engine.run(record(output="It is risk free."), config())
    assert f.rule == "policy_terms.promises"


def test_non_ascii_terms_fold_case(engine: ContentEngine) -> None:
    [f] = engine.run(record(output="Ask Frau MÜLLER."), config())
    assert f.detail["terms"] == ["Müller"]


def test_one_finding_per_list_and_field(engine: ContentEngine) -> None:
    found = engine.run(
        record(output="Falcon: risk free, cannot lose, falcon again", user="falcon?"), config()
    )
    summary = sorted((f.rule, f.path, f.detail["count"]) for f in found)
    assert summary == [
        ("policy_terms.codenames", "messages[0].content", 1),
        ("policy_terms.codenames", "output", 2),
        ("policy_terms.promises", "output", 2),
    ]


def test_list_category_setting_and_default_severity(engine: ContentEngine) -> None:
    lists = {"secret": {"terms": ["Nightjar"], "category": "confidentiality"}}
    [f] = engine.run(record(output="nightjar"), config(lists))
    assert (f.category, f.severity) == ("confidentiality", "SEV3")


@pytest.mark.parametrize(
    "lists",
    [None, {}, [], "x", {"bad": {"terms": "not a list"}}, {"empty": {"terms": ["", "  "]}}],
)
def test_missing_or_malformed_settings_find_nothing(engine: ContentEngine, lists: Any) -> None:
    assert engine.run(record(output="risk free falcon"), config(lists)) == []


def test_unknown_sources_are_ignored_with_the_valid_ones_kept() -> None:
    [tl] = parse_lists({"x": {"terms": ["a b"], "sources": ["output", "nowhere"]}})
    assert tl.sources == frozenset({Source.output})
    assert parse_lists({"x": {"terms": ["a"], "sources": ["nowhere"]}}) == ()


def test_matchers_are_cached_per_distinct_lists() -> None:
    detector = PolicyTerms()
    first = detector.matcher(LISTS)
    assert detector.matcher(LISTS) is first
    assert detector.matcher({k: dict(v) for k, v in LISTS.items()}) is first  # equal, not same
    assert detector.matcher({"other": {"terms": ["x"]}}) is not first


FAST, SLOW = PolicyTerms(engine="auto"), PolicyTerms(engine="re")
words = st.sampled_from(
    [
        "falcon",
        "Falcon",
        "falconry",
        "risk",
        "free",
        "risk free",
        "C++",
        "c",
        "müller",
        "MÜLLER",
        "x",
        "é",
        # Letters Python's case folding takes for ASCII ones: no byte prefilter sees them.
        "riſk",
        "proJect",
        "nıghtjar",
        "NİGHTJAR",
        "\u212aestrel",
        "cannot",
        "lose",
    ]
)
# Whitespace beyond ASCII too: Python's \s takes it between the words of a phrase.
separators = st.sampled_from(
    [" ", "  ", "\n", ", ", "-", "", ".", "\t", "\xa0", "\u2003", "\u3000", "\x1f"]
)


@pytest.mark.skipif(hyperscan is None, reason="needs the Hyperscan wheel")
@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(words, separators), max_size=12))
def test_hyperscan_and_re_matchers_agree(parts: list[tuple[str, str]]) -> None:
    text = "".join(w + s for w, s in parts)
    fields = [TextField("output", text, Source.output)]
    fast, slow = FAST.matcher(LISTS), SLOW.matcher(LISTS)
    assert fast is not None and slow is not None
    got = sorted(x for spans in fast.find(fields).values() for x in spans)
    want = sorted(x for spans in slow.find(fields).values() for x in spans)
    assert got == want
    # And both equal a plain per-term search.
    expected = sorted(
        (m.start(), m.end(), i)
        for i, term in enumerate(fast.terms)
        for m in re.finditer(
            r"(?<!\w)" + r"\s+".join(map(re.escape, term.split())) + r"(?!\w)", text, re.I
        )
    )
    assert got == expected


def test_every_prefilter_is_byte_safe() -> None:
    # Hyperscan's UTF-8 mode compiles and scans slower; every term's prefilter avoids it. (The
    # terms are per system, so they are in the detector's own database, not the shared scan.)
    assert FAST.patterns() == ()
    matcher = FAST.matcher(LISTS)
    assert matcher is not None
    assert all(byte_safe(p) for p in matcher.prefilters)
    # A phrase is looked for as its words, each once however many terms share it.
    assert term_prefilters("Project Nightjar") == ("Project", "Nightjar")
    assert term_prefilters("C++ and c++") == (r"C\+\+", "and", r"c\+\+")
    assert term_prefilters("Müller") == ("ller",)  # pieces under three letters are left out
    assert term_prefilters("we will pay in full") == ("will", "pay", "full")
    assert term_prefilters("Ö x") == ("x",)  # … unless nothing is longer
    assert term_prefilters("北京") == ("[^!-~]+",)
    assert len(matcher.prefilters) == len(set(matcher.prefilters))


def test_a_phrase_is_a_candidate_only_when_all_its_words_are_there() -> None:
    matcher = FAST.matcher(LISTS)
    assert matcher is not None
    # "project" and "nightjar" in different fields: a candidate, which Python then rejects.
    fields = [
        TextField("output", "the project is late", Source.output),
        TextField("messages[0].content", "a nightjar sang", Source.user),
    ]
    assert matcher.find(fields) == {}


@pytest.mark.skipif(hyperscan is None, reason="needs the Hyperscan wheel")
@settings(max_examples=150, deadline=None)
@given(
    st.text(min_size=1, max_size=30).filter(lambda t: bool(t.split())),
    st.sampled_from([str, str.upper, str.lower, str.swapcase]),
    st.sampled_from(["", "x ", "(", "\xa0"]),
)
def test_any_terms_prefilters_are_byte_safe_and_find_the_term(
    term: str, case: Any, before: str
) -> None:
    term = " ".join(term.split())
    expressions = term_prefilters(term)
    assert expressions and all(byte_safe(e) for e in expressions)
    text = before + case(term) + " after"
    if not re.search(_term_regex(term), text, re.I) or any(c in text for c in _FOLDS_TO_ASCII):
        return  # nothing to find, or a fold only Python sees (find() then checks every term)
    # Every one of them must be found, byte by byte and caselessly, as the matcher compiles them.
    for expression in expressions:
        db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
        db.compile(expressions=[expression.encode()], flags=[hyperscan.HS_FLAG_CASELESS])
        hits: list[int] = []
        db.scan(text.encode("utf-8", "surrogatepass"), lambda *a: hits.append(1))
        assert hits, expression


def test_the_folds_beyond_ascii_are_all_there_are() -> None:
    every = "".join(chr(c) for c in range(0x80, 0x110000) if not 0xD800 <= c < 0xE000)
    found = {c for letter in "abcdefghijklmnopqrstuvwxyz" for c in re.findall(letter, every, re.I)}
    assert found == set(_FOLDS_TO_ASCII)
    assert all(_has_fold(f"a{c}b") for c in _FOLDS_TO_ASCII) and not _has_fold("Müller ß")


@pytest.mark.parametrize("term", ["北京", "Ölfeld", "C++"])
def test_terms_with_little_or_no_ascii(engine: ContentEngine, term: str) -> None:
    lists = {"odd": {"terms": [term]}}
    [f] = engine.run(record(output=f"about {term.upper()} today"), config(lists))
    assert f.detail["terms"] == [term]
