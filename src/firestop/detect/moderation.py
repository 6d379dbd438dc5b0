"""Provider moderation results that flagged an interaction's input or output.

Each entry of ``record.moderation`` with ``flagged`` true — or, when the setting ``min_score`` is
a number, with a score at or above it — becomes a finding ``moderation.<category>``. The category
is normalised so that every provider's spelling of it lands on one rule id: lower-cased, and every
run of characters other than letters and digits (OpenAI's ``self-harm/intent``, Azure's
``Hate``, "sexual minors") becomes one underscore: ``self_harm_intent``.

Several results for the same target and category (two providers, or a provider that reports per
chunk) are one finding with the highest score; input and output are always separate findings,
because harmful output is the system's failure and harmful input is someone's use of it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from firestop.detect.base import Finding, Match, Pattern, SystemConfig, TextField
from firestop.ledger.schemas import InteractionIn

DETECTOR_ID = "moderation"

_NON_WORD = re.compile(r"[^a-z0-9]+")
_SEVERITIES = ("SEV1", "SEV2", "SEV3", "SEV4")


def normalise_category(category: str) -> str:
    slug = _NON_WORD.sub("_", category.lower()).strip("_")
    return slug[:64] or "unspecified"


class Moderation:
    id = DETECTOR_ID

    def patterns(self) -> Sequence[Pattern]:
        return ()

    def inspect(
        self,
        record: InteractionIn,
        fields: Sequence[TextField],
        matches: Sequence[Match],
        config: SystemConfig,
    ) -> list[Finding]:
        if not record.moderation:
            return []
        min_score = config.setting(DETECTOR_ID, "min_score", None)
        ignore = {normalise_category(c) for c in config.setting(DETECTOR_ID, "ignore", ()) or ()}
        overrides: Mapping[str, Any] = config.setting(DETECTOR_ID, "severity", {}) or {}
        severity_for = {normalise_category(k): str(v) for k, v in overrides.items()}

        merged: dict[tuple[str, str], dict[str, Any]] = {}
        for index, result in enumerate(record.moderation):
            by_score = (
                isinstance(min_score, int | float)
                and not isinstance(min_score, bool)
                and result.score is not None
                and result.score >= min_score
            )
            if not (result.flagged or by_score):
                continue
            category = normalise_category(result.category)
            if category in ignore:
                continue
            entry = merged.setdefault(
                (result.target, category),
                {"index": index, "score": None, "providers": [], "labels": [], "flagged": False},
            )
            if result.score is not None and (
                entry["score"] is None or result.score > entry["score"]
            ):
                entry["score"] = result.score
            entry["flagged"] = entry["flagged"] or result.flagged
            if result.provider and result.provider not in entry["providers"]:
                entry["providers"].append(result.provider)
            if result.category not in entry["labels"]:
                entry["labels"].append(result.category)

        findings: list[Finding] = []
        for (target, category), entry in merged.items():
            severity = severity_for.get(category) or severity_for.get(f"{target}:{category}")
            if severity not in _SEVERITIES:
                # Harmful output reached (or nearly reached) someone; harmful input is a user's
                # attempt, worth trending but rarely an incident on its own.
                severity = "SEV3" if target == "output" else "SEV4"
            score = entry["score"]
            reason = "flagged" if entry["flagged"] else f"score {score} ≥ min_score {min_score}"
            findings.append(
                Finding(
                    detector=DETECTOR_ID,
                    rule=f"{DETECTOR_ID}.{category}",
                    title=(
                        f"Moderation flagged the model's output: {category}"
                        if target == "output"
                        else f"Moderation flagged the input: {category}"
                    ),
                    path=f"moderation[{entry['index']}]",
                    excerpt=f"{target}: {category} ({reason})",
                    severity=severity,
                    # Output the system produced is harmful output; input that moderation flags
                    # is someone using the system for what its approval does not cover.
                    category="harmful_output" if target == "output" else "prohibited_use",
                    group=f"{target}:{category}",
                    detail={
                        "target": target,
                        "category": category,
                        "labels": entry["labels"],
                        "providers": entry["providers"],
                        "score": score,
                        "flagged": entry["flagged"],
                        "min_score": min_score,
                    },
                )
            )
        return findings


DETECTOR = Moderation()
