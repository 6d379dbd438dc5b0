"""Loading and checking policy, computing severity with its reasons, validating tags."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from importlib.resources import files
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from firestop.errors import FieldError, FirestopError, invalid, validation_errors
from firestop.policy.schemas import Action, Policy, Route, Sev

SECTIONS = ("version", "taxonomy", "severity", "actions", "detection")


class PolicyError(FirestopError):
    """A policy file that cannot be used; ``errors`` names every bad place."""


def default_document() -> dict[str, Any]:
    text = files("firestop.policy").joinpath("defaults/policy.yaml").read_text("utf-8")
    loaded: dict[str, Any] = yaml.safe_load(text)
    return loaded


def parse_document(text: str, *, source: str) -> dict[str, Any]:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "unknown place"
        raise PolicyError(f"{source} is not valid YAML", [FieldError(where, str(exc))]) from exc
    if not isinstance(data, dict):
        raise PolicyError(
            f"{source} must be a YAML mapping",
            [FieldError("(top level)", "expected a mapping of sections")],
        )
    unknown = sorted(set(data) - set(SECTIONS))
    if unknown:
        raise PolicyError(
            f"{source} has unknown sections",
            [
                FieldError(str(k), f"unknown section; allowed: {', '.join(SECTIONS)}")
                for k in unknown
            ],
        )
    return data


def build_policy(overrides: Mapping[str, Any], *, source: str = "policy") -> Policy:
    """Lay an organisation's sections over the shipped defaults and validate the result."""
    document = default_document()
    document.update(overrides)
    if "version" not in overrides and len(overrides) > 0:
        document["version"] = f"{document['version']}+custom"
    try:
        return Policy.model_validate(document)
    except ValidationError as exc:
        errors = validation_errors(exc)
        raise PolicyError(f"{source} has {len(errors)} error(s)", errors) from exc


def load_policy(path: Path | None) -> Policy:
    if path is None:
        return build_policy({}, source="shipped policy")
    try:
        text = path.read_text("utf-8")
    except OSError as exc:
        raise PolicyError(f"cannot read policy file {path}: {exc.strerror}") from exc
    return build_policy(parse_document(text, source=str(path)), source=str(path))


def check_file(path: Path) -> list[FieldError]:
    """Every problem with a policy file; empty when it is usable."""
    try:
        load_policy(path)
    except PolicyError as exc:
        return exc.errors or [FieldError("(file)", exc.detail)]
    return []


def digest(policy: Policy) -> str:
    """A short fingerprint of the policy content, kept with each severity assessment."""
    canonical = json.dumps(policy.model_dump(mode="json"), sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()[:12]


class FactorReason(BaseModel):
    factor: str
    factor_label: str
    level: str
    level_label: str
    points: int
    floor: Sev | None = None


class SeverityAssessment(BaseModel):
    """A severity level with the reasons that produced it."""

    level: Sev
    score: int
    score_level: Sev
    floor_level: Sev | None
    route: Route
    route_note: str
    factors: list[FactorReason]
    drivers: list[str]
    unassessed: list[str]
    explanation: str
    policy_version: str


def validate_factors(policy: Policy, factors: Mapping[str, str], *, loc: str = "factors") -> None:
    errors: list[FieldError] = []
    for factor_id, level_id in factors.items():
        factor = policy.severity.factor(factor_id)
        if factor is None:
            known = ", ".join(f.id for f in policy.severity.factors)
            errors.append(FieldError(f"{loc}.{factor_id}", f"unknown factor; known: {known}"))
        elif factor.level(level_id) is None:
            levels = ", ".join(lv.id for lv in factor.levels)
            errors.append(
                FieldError(f"{loc}.{factor_id}", f"unknown level {level_id!r}; use one of {levels}")
            )
    if errors:
        raise invalid("severity factors are not in the rubric", errors)


def _score_level(policy: Policy, score: int) -> Sev:
    t = policy.severity.thresholds
    if score >= t.SEV1:
        return Sev.SEV1
    if score >= t.SEV2:
        return Sev.SEV2
    if score >= t.SEV3:
        return Sev.SEV3
    return Sev.SEV4


def assess_severity(policy: Policy, factors: Mapping[str, str]) -> SeverityAssessment:
    """Compute SEV1–SEV4 from the rubric and say which factors, at which level, drove it."""
    validate_factors(policy, factors)
    reasons: list[FactorReason] = []
    unassessed: list[str] = []
    for factor in policy.severity.factors:
        level_id = factors.get(factor.id)
        if level_id is None:
            unassessed.append(factor.id)
            continue
        chosen = factor.level(level_id)
        assert chosen is not None  # checked by validate_factors
        reasons.append(
            FactorReason(
                factor=factor.id,
                factor_label=factor.label,
                level=chosen.id,
                level_label=chosen.label,
                points=chosen.points,
                floor=chosen.floor,
            )
        )
    score = sum(r.points for r in reasons)
    score_level = _score_level(policy, score)
    floors = [r.floor for r in reasons if r.floor is not None]
    floor_level = min(floors, key=lambda s: s.rank) if floors else None
    level = score_level
    if floor_level is not None and floor_level.rank < score_level.rank:
        level = floor_level
    if floor_level is not None and level == floor_level and floor_level.rank < score_level.rank:
        drivers = [r.factor for r in reasons if r.floor == floor_level]
    else:
        drivers = [r.factor for r in sorted(reasons, key=lambda r: -r.points) if r.points > 0][:3]
    rule = policy.severity.routing[level]
    return SeverityAssessment(
        level=level,
        score=score,
        score_level=score_level,
        floor_level=floor_level,
        route=rule.route,
        route_note=rule.note,
        factors=reasons,
        drivers=drivers,
        unassessed=unassessed,
        explanation=_explain(policy, level, score, score_level, floor_level, reasons, unassessed),
        policy_version=policy.version,
    )


def _explain(
    policy: Policy,
    level: Sev,
    score: int,
    score_level: Sev,
    floor_level: Sev | None,
    reasons: list[FactorReason],
    unassessed: list[str],
) -> str:
    parts = []
    scoring = [f"{r.factor}={r.level} (+{r.points})" for r in reasons if r.points > 0]
    parts.append(
        f"score {score} from {', '.join(scoring) if scoring else 'no weighted factor'}"
        f" gives {score_level.value}"
    )
    if floor_level is not None and floor_level.rank < score_level.rank:
        raised_by = [f"{r.factor}={r.level}" for r in reasons if r.floor == floor_level]
        parts.append(f"raised to {level.value} because {', '.join(raised_by)} sets that floor")
    if unassessed:
        parts.append(f"not yet assessed: {', '.join(unassessed)}")
    return "; ".join(parts)


def validate_categories(policy: Policy, categories: list[str], *, loc: str = "categories") -> None:
    known = {c.id for c in policy.taxonomy.categories}
    errors = [
        FieldError(f"{loc}[{i}]", f"unknown category {c!r}; known: {', '.join(sorted(known))}")
        for i, c in enumerate(categories)
        if c not in known
    ]
    if errors:
        raise invalid("categories are not in the taxonomy", errors)


def validate_tags(policy: Policy, tags: list[str], *, loc: str = "tags") -> None:
    """Tags are ``scheme:value``; the value must fit the scheme's pattern and vocabulary."""
    schemes = {s.id: s for s in policy.taxonomy.tag_schemes}
    errors: list[FieldError] = []
    for i, tag in enumerate(tags):
        scheme_id, sep, value = tag.partition(":")
        scheme = schemes.get(scheme_id)
        if not sep or scheme is None:
            errors.append(
                FieldError(
                    f"{loc}[{i}]",
                    f"tag {tag!r} must be scheme:value, scheme one of {', '.join(sorted(schemes))}",
                )
            )
        elif not re.fullmatch(scheme.pattern, value):
            errors.append(FieldError(f"{loc}[{i}]", f"{value!r} is not a valid {scheme.label} ID"))
        elif scheme.values and value not in scheme.values:
            errors.append(FieldError(f"{loc}[{i}]", f"{value!r} is not in {scheme.label}"))
    if errors:
        raise invalid("tags are not valid", errors)


def suggested_actions(policy: Policy, categories: list[str]) -> list[Action]:
    """Reversible protective actions for the incident's categories, first-mentioned first (T4)."""
    seen: dict[str, Action] = {}
    for category_id in categories:
        category = policy.category(category_id)
        for action_id in category.suggested_actions if category else []:
            action = policy.action(action_id)
            if action is not None and action.reversible and action_id not in seen:
                seen[action_id] = action
    return list(seen.values())
