"""The shape of policy: taxonomy (P1), severity rubric (P2) and the protective-action catalog.

Policy is versioned data an organisation edits as YAML. Validation names the exact place of
every problem (``severity.factors[2].levels[0].points``) so a policy author can fix it.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Self

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


class Policy(Strict):
    version: str = Field(min_length=1, max_length=100)
    taxonomy: Taxonomy
    severity: Rubric
    actions: list[Action] = Field(min_length=1)

    @model_validator(mode="after")
    def _references(self) -> Self:
        known = {a.id for a in self.actions}
        problems = [
            f"taxonomy.categories[{i}].suggested_actions[{j}]: unknown action {ref!r}"
            for i, cat in enumerate(self.taxonomy.categories)
            for j, ref in enumerate(cat.suggested_actions)
            if ref not in known
        ]
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def category(self, category_id: str) -> Category | None:
        return next((c for c in self.taxonomy.categories if c.id == category_id), None)

    def action(self, action_id: str) -> Action | None:
        return next((a for a in self.actions if a.id == action_id), None)
