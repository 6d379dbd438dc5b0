"""The shared scanner: Hyperscan as a prefilter must hand Python every field with a match."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firestop.detect import pii, secret
from firestop.detect.base import Pattern, Source, TextField
from firestop.detect.scan import PatternError, Scanner, byte_safe

PATTERNS = (*pii.PATTERNS, *secret.PATTERNS)
HYPERSCAN = Scanner(PATTERNS)
PYTHON_RE = Scanner(PATTERNS, engine="re")


@pytest.mark.parametrize(
    ("expression", "safe"),
    [
        ("api[_-]?key", True),
        (r"ab\.c[0-9]{3}", True),
        (r"key[^\s;]+=", True),  # unbounded: k characters are at least k bytes
        (r"key[^\s;]{16,}=", True),
        (r"key=[^\s;]{16}", True),  # bounded, but last: the bytes up to there are a prefix
        (r"key=[^\s;]{1,8}?", True),
        (r"key[^\s;]{0,20}=", False),  # 20 characters can be 80 bytes
        (r"key[^\s;]?=", False),
        (r"key[^\s;]=", False),  # one character can be several bytes
        (r"a.b", False),
        (r"a\Sb", False),
        (r"a\S*b", True),
        (r"a(?<![A-Za-z0-9].)b", False),
        ("caf\u00e9", False),
        (r"\x41", False),
        (r"[]^x]+y", True),  # "]" first in a set is a literal; the set is not negated
        ("[[:^alpha:]]b", False),
    ],
)
def test_byte_safe(expression: str, safe: bool) -> None:
    assert byte_safe(expression) is safe


def test_personal_data_and_secret_prefilters_are_byte_safe() -> None:
    # UTF-8 mode doubles the scan time of the whole database; these prefilters avoid it.
    assert [p.name for p in PATTERNS if not byte_safe(p.prefilter or p.regex)] == []


def fields(*texts: str) -> list[TextField]:
    return [TextField(f"f{i}", t, Source.output) for i, t in enumerate(texts)]


@pytest.mark.parametrize(
    "text",
    [
        # Gaps of multi-byte characters, which byte-mode prefilters must still cover.
        "SSN \u20ac\u20ac\u20ac\u20ac\u20ac\u20ac\u20ac\u20ac\u20ac\u20ac\u20ac\u20ac: 123456789",
        "Telefon \U0001d54f\U0001d54f\U0001d54f\U0001d54f\U0001d54f\U0001d54f: 030 1234 5678",
        'api_key = "\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9q8Zx2LmN4vB7tR"',
        "postgres://\u00fcser:p\u00e4ss\u00f6rd@db.example:5432/app",
        "password: \u00e9t\u00e9\u00e9t\u00e9\u00e9t\u00e9",
        "Geburtsdatum: 12. M\u00e4rz 1980, born \u00e9\u00e9 1 June 1990",
    ],
)
def test_hyperscan_finds_what_python_finds_across_multibyte_text(text: str) -> None:
    found = PYTHON_RE.scan(fields("x", text))
    assert found  # the example exercises a pattern
    assert HYPERSCAN.scan(fields("x", text)) == found


FRAGMENTS = st.sampled_from(
    [
        " ", "\n", ":", "=", "@", "-", ".", "'", '"', "0", "4", "12", "555", "2024", "4111",
        "ssn ", "phone ", "tel ", "NHS ", "born ", "password=", "token: ", "api_key = ",
        "://", "postgres", "first_name: ", "Bearer ", "AKIA", "eyJ", "DE89", "é", "€", "𝕏",
        "\u00a0", "ſ", "K",
    ]
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(FRAGMENTS, max_size=30).map("".join), min_size=1, max_size=4))
def test_both_engines_give_the_same_matches(texts: list[str]) -> None:
    # Several fields per call: joined for Hyperscan, each match credited to its own field.
    assert HYPERSCAN.scan(fields(*texts)) == PYTHON_RE.scan(fields(*texts))


def test_a_match_is_credited_to_its_own_field() -> None:
    scanner = Scanner([Pattern("word", "needle")])
    found = scanner.scan(fields("hay", "a needle", "", "needle needle"))
    assert [(m.field, m.start) for m in found] == [(1, 2), (3, 0), (3, 7)]


def test_the_engine_warms_detectors_that_have_more_to_prepare() -> None:
    """A detector's own start-up work (prompt_injection's second scanner) happens when the
    engine is built, at server start, not in the first request that needs it."""
    from firestop.detect.engine import ContentEngine
    from firestop.detect.prompt_injection import PromptInjection

    detector = PromptInjection()
    assert detector._rescanner is None
    ContentEngine([detector, pii.DETECTOR])  # pii has nothing to warm: no hook, no error
    assert detector._rescanner is not None


# -- patterns scoped to sources ------------------------------------------------------------

USER_ONLY = frozenset({Source.user})
SCOPED = (
    Pattern("anywhere", "needle"),
    Pattern("user_needle", "needle", sources=USER_ONLY),
    Pattern("user_thread", "thread", sources=USER_ONLY),
    Pattern("docs_thread", "thread", sources=frozenset({Source.retrieval, Source.tool_result})),
)


def sourced(*pairs: tuple[Source, str]) -> list[TextField]:
    return [TextField(f"f{i}", text, source) for i, (source, text) in enumerate(pairs)]


@pytest.mark.parametrize("engine", ["hyperscan", "re"])
def test_a_pattern_with_sources_is_only_found_in_fields_from_them(engine: str) -> None:
    scanner = Scanner(SCOPED, engine=engine)
    found = scanner.scan(
        sourced(
            (Source.instructions, "needle thread"),
            (Source.user, "a needle and thread"),
            (Source.retrieval, "thread"),
            (Source.output, "needle"),
        )
    )
    assert [(m.pattern, m.field) for m in found] == [
        ("anywhere", 0),
        ("anywhere", 1),
        ("user_needle", 1),
        ("user_thread", 1),
        ("docs_thread", 2),
        ("anywhere", 3),
    ]


def test_scoped_patterns_get_one_database_per_set_of_sources() -> None:
    scanner = Scanner(SCOPED, engine="hyperscan")
    assert [d.sources for d in scanner._databases] == [
        None,
        USER_ONLY,
        frozenset({Source.retrieval, Source.tool_result}),
    ]
    # Each database is cached on disk under its own patterns.
    assert len({d.cache_file() for d in scanner._databases}) == 3


def test_candidates_of_a_bare_text_include_scoped_patterns() -> None:
    scanner = Scanner(SCOPED, engine="hyperscan")
    assert scanner.candidates("needle thread") == [0, 1, 2, 3]
    assert scanner.candidates_many(["thread", "x"], [Source.user, Source.user]) == [[2], []]


def test_an_empty_set_of_sources_is_refused() -> None:
    with pytest.raises(PatternError):
        Scanner([Pattern("never", "x", sources=frozenset())])


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(list(Source)),
            st.lists(st.sampled_from(["needle", "thread", " ", "\n", "é"]), max_size=8).map(
                "".join
            ),
        ),
        max_size=6,
    ),
    st.integers(min_value=1, max_value=3),
)
def test_both_engines_agree_on_scoped_patterns(
    pairs: list[tuple[Source, str]], interactions: int
) -> None:
    # Several interactions at once, some without fields: matches go to their own field.
    groups = [sourced(*pairs[i::interactions]) for i in range(interactions)] + [[]]
    assert Scanner(SCOPED, engine="hyperscan").scan_many(groups) == Scanner(
        SCOPED, engine="re"
    ).scan_many(groups)
