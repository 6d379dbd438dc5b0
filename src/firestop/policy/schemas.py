"""The shape of policy: taxonomy (P1), severity rubric (P2) and the protective-action catalog.

Policy is versioned data an organisation edits as YAML. Validation names the exact place of
every problem (``severity.factors[2].levels[0].points``) so a policy author can fix it.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

SLUG = r"^[a-z][a-z0-9_]*$"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Sev(StrEnum):
    """SEV1 is the most severe."""

    SEV1 = "SEV1"
    SEV2 = "SEV2"
    SEV3 = "SEV3"
    SEV4 = "SEV4"

    @property
    def rank(self) -> int:
        """1 for SEV1 … 4 for SEV4: lower is worse."""
        return int(self.value[3])


class Route(StrEnum):
    incident_team = "incident_team"
    log_and_route = "log_and_route"


class Category(Strict):
    id: str = Field(pattern=SLUG)
    label: str = Field(min_length=1)
    description: str = ""
    suggested_actions: list[str] = Field(default_factory=list)
    default_tags: list[str] = Field(default_factory=list)


class Outcome(Strict):
    id: str = Field(pattern=SLUG)
    label: str = Field(min_length=1)
    description: str = ""


class TagScheme(Strict):
    """A tag vocabulary. Tags are written ``scheme:value``; IDs are the keys, not names."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_-]*$")
    label: str
    pattern: str = Field(description="regular expression every value must match in full")
    values: dict[str, str] = Field(
        default_factory=dict, description="closed vocabulary (id → name); empty means open"
    )

    @model_validator(mode="after")
    def _pattern_compiles(self) -> Self:
        try:
            compiled = re.compile(self.pattern)
        except re.error as exc:
            raise ValueError(f"pattern does not compile: {exc}") from exc
        bad = [v for v in self.values if not compiled.fullmatch(v)]
        if bad:
            raise ValueError(f"values {bad} do not match the scheme's own pattern")
        return self


class Taxonomy(Strict):
    categories: list[Category] = Field(min_length=1)
    outcomes: list[Outcome] = Field(default_factory=list)
    tag_schemes: list[TagScheme] = Field(default_factory=list)
    harm_dimensions: list[Outcome] = Field(min_length=1)
    cause_candidates: list[Outcome] = Field(default_factory=list)
    harm_levels: list[str] = Field(default=["none", "low", "medium", "high"], min_length=2)

    @model_validator(mode="after")
    def _unique(self) -> Self:
        for name in (
            "categories",
            "outcomes",
            "tag_schemes",
            "harm_dimensions",
            "cause_candidates",
        ):
            ids = [item.id for item in getattr(self, name)]
            dupes = sorted({i for i in ids if ids.count(i) > 1})
            if dupes:
                raise ValueError(f"{name}: duplicate ids {dupes}")
        clash = {c.id for c in self.categories} & {o.id for o in self.outcomes}
        if clash:
            raise ValueError(f"ids used both as category and outcome: {sorted(clash)}")
        return self


class FactorLevel(Strict):
    id: str = Field(pattern=SLUG)
    label: str
    points: int = Field(ge=0, le=100)
    floor: Sev | None = Field(
        default=None, description="this level alone makes the incident at least this severe"
    )


class Factor(Strict):
    id: str = Field(pattern=SLUG)
    label: str
    question: str = ""
    levels: list[FactorLevel] = Field(min_length=2, description="ordered from least to most")

    @model_validator(mode="after")
    def _levels(self) -> Self:
        ids = [lv.id for lv in self.levels]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"duplicate level ids {dupes}")
        points = [lv.points for lv in self.levels]
        if points != sorted(points):
            raise ValueError("levels must be ordered from least to most points")
        return self

    def level(self, level_id: str) -> FactorLevel | None:
        return next((lv for lv in self.levels if lv.id == level_id), None)


class Thresholds(Strict):
    """Minimum total score for each level; anything below SEV3 is SEV4."""

    SEV1: int = Field(ge=1)
    SEV2: int = Field(ge=1)
    SEV3: int = Field(ge=1)

    @model_validator(mode="after")
    def _descending(self) -> Self:
        if not self.SEV1 > self.SEV2 > self.SEV3:
            raise ValueError("thresholds must fall strictly: SEV1 > SEV2 > SEV3")
        return self


class RoutingRule(Strict):
    route: Route
    note: str = ""


class Rubric(Strict):
    factors: list[Factor] = Field(min_length=1)
    thresholds: Thresholds
    routing: dict[Sev, RoutingRule]

    @model_validator(mode="after")
    def _complete(self) -> Self:
        ids = [f.id for f in self.factors]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"duplicate factor ids {dupes}")
        missing = [s.value for s in Sev if s not in self.routing]
        if missing:
            raise ValueError(f"routing has no rule for {missing}")
        return self

    def factor(self, factor_id: str) -> Factor | None:
        return next((f for f in self.factors if f.id == factor_id), None)


class Action(Strict):
    id: str = Field(pattern=SLUG)
    label: str
    description: str = ""
    reversible: bool = True


class SignalRoute(StrEnum):
    triage = "triage"  # wait in the triage queue for a responder
    incident = "incident"  # open (or join) an incident at once
    near_miss = "near_miss"  # record in the near-miss log; trended, not worked


class RouteMatch(Strict):
    """Every condition given must hold; an empty match matches every signal."""

    detectors: list[str] = Field(default_factory=list, description="detector ids")
    rules: list[str] = Field(
        default_factory=list, description="rule ids or prefixes ending in '*' (pii.card, pii.*)"
    )
    systems: list[str] = Field(default_factory=list, description="system slugs")
    criticality: list[str] = Field(default_factory=list, description="system criticality tiers")
    min_severity: Sev | None = Field(
        default=None, description="the signal's severity hint is this severe or worse"
    )
    with_detectors: list[str] = Field(
        default_factory=list,
        description="these detectors also fired on one of the signal's interactions "
        "(secret together with unapproved_model: confidential data sent to an unapproved model)",
    )
    escalated: bool | None = Field(
        default=None, description="the signal crossed the aggregation threshold"
    )


class SignalRouteRule(Strict):
    id: str = Field(pattern=SLUG)
    match: RouteMatch = Field(default_factory=RouteMatch)
    route: SignalRoute
    # For route "incident": the rubric factors the opened incident starts with.
    factors: dict[str, str] = Field(default_factory=dict)
    categories: list[str] = Field(
        default_factory=list, description="incident categories; default: the signal's hint"
    )
    note: str = ""


class Aggregation(Strict):
    """When a signal recurs at scale it is escalated: a small error repeated a million times."""

    window_minutes: int = Field(default=60, ge=1, le=43_200)
    # Occurrences × distinct affected users within the window that escalates a signal.
    threshold: int = Field(default=1_000, ge=1)
    escalate_to: Sev = Sev.SEV2


class AlertSource(Strict):
    """How to read alerts from one external tool (DLP, SIEM, a vendor's status page).

    Each value is a dotted path into the alert's JSON (``event.app``), or a literal when it
    starts with '='. Paths that are missing leave the field empty.
    """

    title: str = Field(default="=External alert", min_length=1)
    summary: str = ""
    system: str = ""
    severity: str = ""
    category: str = ""
    fingerprint: str = Field(
        default="", description="path of a stable id for deduplication; default: the title"
    )
    severity_map: dict[str, Sev] = Field(
        default_factory=dict, description="the tool's severity words mapped to SEV1–SEV4"
    )


class Detection(Strict):
    defaults: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="per-detector settings; a system's own override them"
    )
    dedup_window_minutes: int = Field(default=60, ge=1, le=43_200)
    aggregation: Aggregation = Field(default_factory=Aggregation)
    routes: list[SignalRouteRule] = Field(default_factory=list)
    alerts: dict[str, AlertSource] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _unique_routes(self) -> Self:
        ids = [r.id for r in self.routes]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"duplicate route ids {dupes}")
        return self


class Policy(Strict):
    version: str = Field(min_length=1, max_length=100)
    taxonomy: Taxonomy
    severity: Rubric
    actions: list[Action] = Field(min_length=1)
    detection: Detection = Field(default_factory=Detection)

    @model_validator(mode="after")
    def _references(self) -> Self:
        known = {a.id for a in self.actions}
        problems = [
            f"taxonomy.categories[{i}].suggested_actions[{j}]: unknown action {ref!r}"
            for i, cat in enumerate(self.taxonomy.categories)
            for j, ref in enumerate(cat.suggested_actions)
            if ref not in known
        ]
        categories = {c.id for c in self.taxonomy.categories}
        for i, rule in enumerate(self.detection.routes):
            problems += [
                f"detection.routes[{i}].categories: unknown category {c!r}"
                for c in rule.categories
                if c not in categories
            ]
            for factor_id, level in rule.factors.items():
                factor = self.severity.factor(factor_id)
                if factor is None:
                    problems.append(f"detection.routes[{i}].factors: unknown factor {factor_id!r}")
                elif level not in {lv.id for lv in factor.levels}:
                    problems.append(
                        f"detection.routes[{i}].factors.{factor_id}: unknown level {level!r}"
                    )
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def category(self, category_id: str) -> Category | None:
        return next((c for c in self.taxonomy.categories if c.id == category_id), None)

    def action(self, action_id: str) -> Action | None:
        return next((a for a in self.actions if a.id == action_id), None)
