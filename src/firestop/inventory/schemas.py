"""Inventory entries as they are written in a Firestop YAML file and sent to the API.

The same shapes serve the import file, the request bodies and (with timestamps or ids added)
the responses, so an exported file is exactly what the API would accept.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from firestop.access.models import Role
from firestop.inventory.models import (
    Classification,
    Criticality,
    Decision,
    Lifecycle,
    ResponseRole,
    ToolKind,
)

SLUG_PATTERN = r"^[a-z0-9][a-z0-9-]*$"
# Invokers and approvers in the authority matrix name a response role or an application role.
AUTHORITY_ROLES = frozenset(ResponseRole) | frozenset(Role)

URL_PATTERN = r"^(https?://\S+)?$"
EMAIL_PATTERN = r"^([^@\s]+@[^@\s]+)?$"


def _matches(pattern: str, message: str) -> AfterValidator:
    """A pattern check whose error a person can read (pydantic's quotes the regex)."""
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        if not compiled.fullmatch(value):
            raise ValueError(message)
        return value

    return AfterValidator(check)


Slug = Annotated[
    str,
    Field(min_length=1, max_length=100, json_schema_extra={"pattern": SLUG_PATTERN}),
    _matches(
        SLUG_PATTERN, "a slug is lower-case letters, digits and hyphens, not starting with a hyphen"
    ),
]
Name = Annotated[str, Field(min_length=1, max_length=200)]
Short = Annotated[str, Field(max_length=500)]
Text = Annotated[str, Field(max_length=20_000)]
# Shown as links on pages, so only web addresses: no javascript: or data: URLs.
Url = Annotated[
    str,
    Field(max_length=2000, json_schema_extra={"pattern": URL_PATTERN}),
    _matches(URL_PATTERN, "must be an http:// or https:// address"),
]
Email = Annotated[
    str,
    Field(max_length=320, json_schema_extra={"pattern": EMAIL_PATTERN}),
    _matches(EMAIL_PATTERN, "must be an e-mail address"),
]
Phone = Annotated[str, Field(max_length=50)]
BomRef = Annotated[str | None, Field(max_length=500)]
Purl = Annotated[str | None, Field(max_length=2000)]


def _no_duplicates(values: list[str]) -> list[str]:
    dupes = sorted({v for v in values if values.count(v) > 1})
    if dupes:
        raise ValueError(f"listed more than once: {', '.join(dupes)}")
    return values


def _slug_set(values: list[str]) -> list[str]:
    return sorted(_no_duplicates(values))


def _known_roles(values: list[str]) -> list[str]:
    unknown = [v for v in values if v not in AUTHORITY_ROLES]
    if unknown:
        raise ValueError(
            f"unknown role {', '.join(map(repr, unknown))}; use one of "
            + ", ".join(sorted(AUTHORITY_ROLES))
        )
    return _no_duplicates(values)


class Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ModelIn(Entry):
    name: Name
    provider: Short = ""
    version: Annotated[str, Field(max_length=200)] = ""
    approved: bool = False
    bom_ref: BomRef = None
    purl: Purl = None


class DataSourceIn(Entry):
    name: Name
    kind: Annotated[str, Field(max_length=100)] = ""
    classification: Classification = Classification.internal
    bom_ref: BomRef = None
    purl: Purl = None


class ToolIn(Entry):
    name: Name
    kind: ToolKind = ToolKind.tool
    destructive: bool = False
    description: Text = ""


class RiskAssessmentRef(Entry):
    id: Annotated[str, Field(max_length=200)] = ""
    url: Url = ""


class FallbackPlan(Entry):
    manual_process: Text = ""
    capacity: Short = Field(default="", description='e.g. "40 % of normal volume"')
    what_stops: Text = Field(default="", description="what stops when the system is shut down")


class LedgerPolicy(Entry):
    """How the interaction ledger keeps this system's prompts and outputs."""

    content: Literal["raw", "redacted", "hashed"] = Field(
        default="raw",
        description="raw: as sent (reads are recorded); redacted: personal data and secrets "
        "replaced before storage; hashed: only SHA-256 of each text",
    )
    retention_days: int | None = Field(
        default=None, ge=1, le=36_500, description="keep content this long; none: forever"
    )
    after_retention: Literal["drop", "hash"] = Field(
        default="hash", description="what happens to content older than the window"
    )


DetectorSettings = dict[
    Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)],
    dict[Annotated[str, StringConstraints(max_length=64)], Any],
]


class SystemIn(Entry):
    slug: Slug
    name: Name
    description: Text = ""
    owner: Slug | None = Field(default=None, description="slug of the accountable person")
    business_process: Short = ""
    criticality: Criticality
    lifecycle: Lifecycle = Lifecycle.production
    models: list[ModelIn] = Field(default_factory=list, max_length=500)
    data_sources: list[DataSourceIn] = Field(default_factory=list, max_length=500)
    tools: list[ToolIn] = Field(default_factory=list, max_length=500)
    # A set: kept sorted so that two files naming the same vendors are the same entry.
    vendors: Annotated[list[Slug], AfterValidator(_slug_set), Field(max_length=200)] = Field(
        default_factory=list
    )
    approved_uses: list[Text] = Field(default_factory=list, max_length=200)
    prohibited_uses: list[Text] = Field(default_factory=list, max_length=200)
    risk_assessment: RiskAssessmentRef = Field(default_factory=RiskAssessmentRef)
    fallback: FallbackPlan = Field(default_factory=FallbackPlan)
    ledger: LedgerPolicy = Field(default_factory=LedgerPolicy)
    detectors: DetectorSettings = Field(
        default_factory=dict,
        max_length=50,
        description="per-detector settings over the policy's defaults, keyed by detector id",
    )
    bom_ref: BomRef = None
    purl: Purl = None

    @model_validator(mode="after")
    def _unique_children(self) -> Self:
        problems = []
        keys = [(m.name, m.version) for m in self.models]
        problems += [
            f"models: {n!r} version {v!r} is listed more than once"
            for n, v in sorted({k for k in keys if keys.count(k) > 1})
        ]
        for field in ("data_sources", "tools"):
            names = [item.name for item in getattr(self, field)]
            problems += [
                f"{field}: {n!r} is listed more than once"
                for n in sorted({n for n in names if names.count(n) > 1})
            ]
        if problems:
            raise ValueError("; ".join(problems))
        return self


class TeamIn(Entry):
    slug: Slug
    name: Name
    contact: Short = Field(default="", description="e-mail address or on-call channel")


class PersonIn(Entry):
    slug: Slug
    name: Name
    email: Email = ""
    phone: Phone = ""
    team: Slug | None = None
    title: Annotated[str, Field(max_length=200)] = ""


class VendorContact(Entry):
    name: Name
    email: Email = ""
    phone: Phone = ""
    role: Annotated[str, Field(max_length=200)] = ""


class VendorIn(Entry):
    slug: Slug
    name: Name
    description: Text = ""
    contacts: list[VendorContact] = Field(default_factory=list, max_length=100)
    escalation_route: list[Text] = Field(
        default_factory=list, max_length=50, description="ordered steps, first step first"
    )
    notify_within_hours: int | None = Field(
        default=None, ge=0, le=8760, description="contractual notification window"
    )
    notification_terms: Text = ""
    support_url: Url = ""
    status_url: Url = ""


class AssignmentIn(Entry):
    """A person in a response role for one system, or organisation-wide when system is empty."""

    role: ResponseRole
    person: Slug
    system: Slug | None = None


class AuthorityRuleIn(Entry):
    action: Annotated[str, Field(min_length=1, max_length=100)]
    system: Slug | None = None
    criticality: Criticality | None = None
    decision: Decision
    invokers: Annotated[list[str], AfterValidator(_known_roles)] = Field(default_factory=list)
    approvers: Annotated[list[str], AfterValidator(_known_roles)] = Field(default_factory=list)
    note: Text = ""

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if (self.system is None) == (self.criticality is None):
            raise ValueError("give exactly one scope: a system slug or a criticality tier")
        if self.decision == Decision.needs_approval and not self.approvers:
            raise ValueError("a needs_approval rule must name the approver roles")
        if self.decision != Decision.needs_approval and self.approvers:
            raise ValueError("approvers apply only to a needs_approval rule")
        if self.decision == Decision.pre_authorized and not self.invokers:
            raise ValueError("a pre_authorized rule must name the roles that may invoke it")
        if self.decision == Decision.forbidden and self.invokers:
            raise ValueError("a forbidden action has no invokers")
        return self

    @property
    def scope(self) -> str:
        return f"system {self.system}" if self.system else f"criticality {self.criticality}"


SECTIONS: dict[str, type[Entry]] = {
    "teams": TeamIn,
    "people": PersonIn,
    "vendors": VendorIn,
    "systems": SystemIn,
    "assignments": AssignmentIn,
    "authority": AuthorityRuleIn,
}


class Stamped(BaseModel):
    created_at: datetime
    updated_at: datetime


class SystemOut(SystemIn, Stamped):
    pass


class TeamOut(TeamIn, Stamped):
    pass


class PersonOut(PersonIn, Stamped):
    pass


class VendorOut(VendorIn, Stamped):
    pass


class AssignmentOut(AssignmentIn):
    id: int


class AuthorityRuleOut(AuthorityRuleIn):
    id: int


class AuthorityOut(BaseModel):
    """How the authority matrix answers for one action on one system, and why."""

    system: str
    action: str
    decision: Decision
    source: Literal["system", "criticality", "default"]
    rule_id: int | None
    invokers: list[str]
    approvers: list[str]
    note: str


class KindCounts(BaseModel):
    created: int = 0
    updated: int = 0
    unchanged: int = 0


class ImportResult(BaseModel):
    format: Literal["firestop", "cyclonedx"]
    spec_version: str | None = Field(default=None, description="CycloneDX specVersion")
    teams: KindCounts = Field(default_factory=KindCounts)
    people: KindCounts = Field(default_factory=KindCounts)
    vendors: KindCounts = Field(default_factory=KindCounts)
    systems: KindCounts = Field(default_factory=KindCounts)
    assignments: KindCounts = Field(default_factory=KindCounts)
    authority: KindCounts = Field(default_factory=KindCounts)
    warnings: list[str] = Field(default_factory=list)

    def counts(self) -> dict[str, KindCounts]:
        return {kind: getattr(self, kind) for kind in SECTIONS}

    @property
    def created(self) -> int:
        return sum(c.created for c in self.counts().values())

    @property
    def updated(self) -> int:
        return sum(c.updated for c in self.counts().values())
