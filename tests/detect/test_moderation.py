from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from firestop.detect.base import SystemConfig
from firestop.detect.engine import ContentEngine
from firestop.detect.moderation import DETECTOR, normalise_category
from firestop.ledger.schemas import InteractionIn

ENGINE = ContentEngine([DETECTOR])


def config(**settings: Any) -> SystemConfig:
    return SystemConfig(1, "chat", "medium", "raw", (), (), {}, {"moderation": settings})


def record(*moderation: dict[str, Any]) -> InteractionIn:
    return InteractionIn.model_validate(
        {
            "system": "chat",
            "started_at": "2026-01-01T00:00:00Z",
            "output": "…",
            "moderation": list(moderation),
        }
    )


def test_flagged_output_becomes_a_finding_with_a_normalised_rule() -> None:
    [f] = ENGINE.run(record({"provider": "openai", "category": "self-harm/intent"}), config())
    assert f.rule == "moderation.self_harm_intent"
    assert f.category == "harmful_output"
    assert f.severity == "SEV3"
    assert f.path == "moderation[0]"
    assert f.group == "output:self_harm_intent"
    assert f.detail["providers"] == ["openai"]
    assert f.detail["labels"] == ["self-harm/intent"]


def test_input_and_output_are_separate_findings() -> None:
    found = ENGINE.run(
        record(
            {"category": "hate/threatening", "target": "input"},
            {"category": "hate/threatening", "target": "output"},
        ),
        config(),
    )
    by_group = {f.group: f for f in found}
    assert set(by_group) == {"input:hate_threatening", "output:hate_threatening"}
    assert by_group["input:hate_threatening"].category == "prohibited_use"
    assert by_group["input:hate_threatening"].severity == "SEV4"
    assert by_group["output:hate_threatening"].category == "harmful_output"
    assert all(f.rule == "moderation.hate_threatening" for f in found)


def test_unflagged_results_are_ignored_unless_their_score_reaches_min_score() -> None:
    rec = record(
        {"category": "violence", "flagged": False, "score": 0.71},
        {"category": "sexual", "flagged": False, "score": 0.2},
        {"category": "harassment", "flagged": False},
    )
    assert ENGINE.run(rec, config()) == []
    [f] = ENGINE.run(rec, config(min_score=0.7))
    assert f.rule == "moderation.violence"
    assert f.detail["flagged"] is False
    assert "min_score" in f.excerpt


def test_duplicates_merge_with_the_highest_score_and_every_provider() -> None:
    [f] = ENGINE.run(
        record(
            {"provider": "openai", "category": "Violence", "score": 0.4},
            {"provider": "azure", "category": "violence", "score": 0.9},
            {"provider": "azure", "category": "violence", "score": 0.5},
        ),
        config(),
    )
    assert f.detail["score"] == 0.9
    assert f.detail["providers"] == ["openai", "azure"]
    assert f.path == "moderation[0]"


def test_ignore_and_severity_settings() -> None:
    rec = record({"category": "Sexual/Minors"}, {"category": "profanity"})
    found = ENGINE.run(rec, config(ignore=["Profanity"], severity={"sexual/minors": "SEV1"}))
    assert [(f.rule, f.severity) for f in found] == [("moderation.sexual_minors", "SEV1")]
    # An unknown severity word falls back to the default rather than leaking into the hint.
    [f] = ENGINE.run(record({"category": "x"}), config(severity={"x": "urgent"}))
    assert f.severity == "SEV3"


def test_nothing_without_moderation_results_or_when_disabled() -> None:
    assert ENGINE.run(record(), config()) == []
    assert ENGINE.run(record({"category": "hate"}), config(enabled=False)) == []


@given(st.text(min_size=1, max_size=80))
def test_normalised_categories_are_always_rule_safe(category: str) -> None:
    slug = normalise_category(category)
    assert slug
    assert all(c.isascii() and (c.isalnum() or c == "_") for c in slug)
    assert slug == slug.lower()
    assert not slug.startswith("_") and not slug.endswith("_")
    assert normalise_category(slug) == slug
