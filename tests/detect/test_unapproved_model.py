from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from firestop.detect.base import ModelRef, SystemConfig
from firestop.detect.engine import ContentEngine
from firestop.detect.unapproved_model import (
    DETECTOR,
    UnapprovedModel,
    normalise_name,
    normalise_provider,
    split_version,
    version_matches,
)
from firestop.ledger.schemas import InteractionIn

ENGINE = ContentEngine([DETECTOR])

APPROVED = (
    ModelRef("gpt-4o", "OpenAI", ""),
    ModelRef("claude-3-5-sonnet", "AWS Bedrock", "20240620"),
    ModelRef("nimbus-large", "Nimbus AI", "2025-09-15"),
    ModelRef("gemini-1.5-pro", "Google Vertex AI", ""),
    ModelRef("nimbus-code-2", "Nimbus AI", "2.4"),
)
OTHER = (
    ModelRef("gpt-4o-mini", "OpenAI", ""),
    ModelRef("nimbus-large", "Nimbus AI", "2025-11-01"),
    ModelRef("llama-3", "Meta", ""),
)


def config(
    approved: tuple[ModelRef, ...] = APPROVED, other: tuple[ModelRef, ...] = OTHER, **settings: Any
) -> SystemConfig:
    return SystemConfig(
        1, "assist", "high", "raw", approved, other, {}, {"unapproved_model": settings}
    )


def record(
    model: str | None = None, provider: str | None = None, version: str | None = None
) -> InteractionIn:
    return InteractionIn.model_validate(
        {
            "system": "assist",
            "started_at": "2026-01-01T00:00:00Z",
            "model": model,
            "provider": provider,
            "model_version": version,
        }
    )


@pytest.mark.parametrize(
    ("model", "provider", "version"),
    [
        ("gpt-4o", "openai", None),
        ("gpt-4o-2024-08-06", "openai", None),  # dated snapshot of an approved model
        ("GPT-4o", "OpenAI Inc.", None),
        ("gpt-4o@2024-05-13", None, None),  # no provider reported: judged on the name alone
        ("anthropic.claude-3-5-sonnet-20240620-v1:0", "aws.bedrock", None),
        ("us.anthropic.claude-3-5-sonnet-20240620-v1:0", "Amazon Bedrock", None),
        ("claude-3-5-sonnet", "aws_bedrock", "2024-06-20"),
        ("nimbus-large", "nimbus-ai", "2025-09-15"),
        ("nimbus-large", "Nimbus", "20250915"),  # the same date spelled without hyphens
        ("nimbus-code-2", "nimbus", "2.4.1"),  # a patch release of the pinned 2.4
        ("nimbus-code-2", "nimbus", "v2.4"),
        ("models/gemini-1.5-pro-002", "gcp.vertex_ai", None),
        ("gemini-1.5-pro", "Google Vertex AI", None),
        ("nimbus-large", "nimbus", None),  # pinned, but no version reported: not checkable
        (None, "openai", None),
    ],
)
def test_approved_models_in_their_many_spellings(
    model: str | None, provider: str | None, version: str | None
) -> None:
    assert ENGINE.run(record(model, provider, version), config()) == []


def test_a_provider_no_approved_model_comes_from() -> None:
    [f] = ENGINE.run(record("gemini-1.5-pro", "Google AI Studio"), config())
    assert f.rule == "unapproved_model.provider"
    assert f.category == "prohibited_use"
    assert f.severity == "SEV2"
    assert f.path == "provider"
    assert f.group == "provider:google+studio"
    assert "Google Vertex AI" in f.detail["expected"]


def test_provider_must_name_everything_the_approved_entry_names() -> None:
    azure = config((ModelRef("gpt-4o", "Azure OpenAI", ""),), ())
    assert ENGINE.run(record("gpt-4o", "azure.ai.openai"), azure) == []
    [f] = ENGINE.run(record("gpt-4o", "openai"), azure)  # OpenAI directly: another processor
    assert f.rule == "unapproved_model.provider"


def test_a_different_model_of_an_approved_provider() -> None:
    [f] = ENGINE.run(record("gpt-4o-mini-2024-07-18", "openai"), config())
    assert f.rule == "unapproved_model.model"
    assert f.detail["listed_not_approved"] is True
    assert f.detail["inventory_entry"]["name"] == "gpt-4o-mini"
    assert "listed in the inventory but not approved" in f.title
    assert f.group == "model:gpt-4o-mini-2024-07-18"
    [g] = ENGINE.run(record("gpt-4-turbo", "openai"), config())
    assert g.rule == "unapproved_model.model"
    assert g.detail["listed_not_approved"] is False
    assert g.detail["expected"] == ["gpt-4o"]


@pytest.mark.parametrize(
    ("model", "provider", "version"),
    [
        ("anthropic.claude-3-5-sonnet-20241022-v2:0", "aws.bedrock", None),  # a newer snapshot
        ("nimbus-large", "nimbus", "2025-10-01"),
        ("nimbus-code-2", "nimbus", "2.5"),
        ("nimbus-code-2", "nimbus", "2.40"),  # not a refinement of 2.4
    ],
)
def test_a_version_the_pin_does_not_allow(model: str, provider: str, version: str | None) -> None:
    [f] = ENGINE.run(record(model, provider, version), config())
    assert f.rule == "unapproved_model.version"
    assert f.category == "integrity"
    assert f.severity == "SEV3"


def test_a_version_listed_but_not_approved_says_so() -> None:
    [f] = ENGINE.run(record("nimbus-large", "nimbus", "2025-11-01"), config())
    assert f.rule == "unapproved_model.version"
    assert f.detail["listed_not_approved"] is True
    assert f.detail["expected"] == ["2025-09-15"]
    assert f.path == "model_version"


def test_no_models_listed_means_no_opinion_unless_inventory_is_required() -> None:
    empty = config((), ())
    assert ENGINE.run(record("anything", "anyone"), empty) == []
    [f] = ENGINE.run(record("anything", "anyone"), config((), (), require_inventory=True))
    assert f.rule == "unapproved_model.model"
    assert "lists no models" in f.title
    # Nothing reported: nothing to judge, even when required.
    assert ENGINE.run(record(), config((), (), require_inventory=True)) == []


def test_require_version_flags_an_unverifiable_pin() -> None:
    [f] = ENGINE.run(record("nimbus-large", "nimbus"), config(require_version=True))
    assert f.rule == "unapproved_model.version"
    assert f.path == "model"


def test_disabled_detector_and_unrelated_interactions() -> None:
    assert ENGINE.run(record("rogue", "rogue"), config(enabled=False)) == []
    assert ENGINE.run(record(), config()) == []


def test_verdicts_follow_a_changed_configuration() -> None:
    detector = UnapprovedModel()
    engine = ContentEngine([detector])
    rec = record("gpt-4o-mini", "openai")
    assert engine.run(rec, config())[0].rule == "unapproved_model.model"
    allowed = config((*APPROVED, ModelRef("gpt-4o-mini", "OpenAI", "")))
    assert engine.run(rec, allowed) == []
    assert engine.run(rec, config())[0].rule == "unapproved_model.model"


def test_normalisation_helpers() -> None:
    assert normalise_provider("Nimbus AI") == normalise_provider("nimbus-ai") == {"nimbus"}
    assert normalise_provider("Amazon Bedrock") == {"aws", "bedrock"}
    assert normalise_name("anthropic.claude-3-5-sonnet-20240620-v1:0").startswith("claude-3-5")
    assert normalise_name("gpt-3.5-turbo") == "gpt-3.5-turbo"  # a dot inside a name stays
    assert normalise_name("llama3.1-8b") == "llama3.1-8b"
    assert normalise_name("meta-llama/Llama-3-70B") == "llama-3-70b"
    assert split_version("gpt-4-0613", "gpt-4") == "0613"
    assert split_version("claude-3-5-sonnet-latest", "claude-3-5-sonnet") == ""
    assert version_matches("2024-06-20", "20240620")
    assert not version_matches("2.40", "2.4")


base_names = st.from_regex(r"[a-z]{2,8}(-[a-z0-9]{1,6}){0,3}", fullmatch=True)
dates = st.dates(date(2000, 1, 1), date(2099, 12, 31)).map(lambda d: d.strftime("%Y-%m-%d"))


@given(base_names, dates, st.sampled_from(["-", "@", "_"]))
def test_dated_snapshots_match_their_base_name(name: str, date: str, sep: str) -> None:
    assert split_version(f"{name}{sep}{date}", name) == date
    assert split_version(f"{name}{sep}{date.replace('-', '')}", name) == date.replace("-", "")


@given(base_names, st.sampled_from(["mini", "turbo", "70b", "4", "preview", "instruct", "x1"]))
def test_variant_suffixes_are_different_models(name: str, variant: str) -> None:
    assert split_version(f"{name}-{variant}", name) is None
