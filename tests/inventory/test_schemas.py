"""Slugs, the identifiers everything in the inventory is found by."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from firestop.inventory.cyclonedx import slugify
from firestop.inventory.schemas import TeamIn

GOOD = st.from_regex(r"[a-z0-9][a-z0-9-]{0,99}", fullmatch=True)


def _accepted(slug: str) -> bool:
    try:
        TeamIn(slug=slug, name="Team")
    except ValidationError:
        return False
    return True


@given(GOOD)
def test_well_formed_slugs_are_accepted(slug: str) -> None:
    assert _accepted(slug)


@given(
    st.text(max_size=30).filter(
        lambda s: bool(re.search(r"[A-Z_ ./:@]", s.strip())) or s.strip().startswith("-")
    )
)
def test_slugs_with_capitals_punctuation_or_leading_hyphens_are_refused(slug: str) -> None:
    assert not _accepted(slug)


@pytest.mark.parametrize("slug", ["", "a" * 101, "-a", "Ab", "a_b", "a b", "å", "a/b"])
def test_examples_of_refused_slugs(slug: str) -> None:
    assert not _accepted(slug)


def test_refusal_says_what_a_slug_is() -> None:
    with pytest.raises(ValidationError) as caught:
        TeamIn(slug="Security Ops", name="x")
    assert "lower-case letters, digits and hyphens" in str(caught.value)


@given(st.text(max_size=60))
def test_slugify_makes_valid_slugs_or_nothing(text: str) -> None:
    slug = slugify(text)
    assert slug == "" or _accepted(slug)
