"""API shapes for incidents: what may be sent (strict, bounded) and what is shown."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from firestop.incidents.models import (
    ClaimKind,
    ClaimStatus,
    Continuing,
    CountBasis,
    IncidentStatus,
    ParticipantRole,
)
from firestop.policy.schemas import Action, Route, Sev
from firestop.policy.service import SeverityAssessment

Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]
Slug = Annotated[str, StringConstraints(min_length=1, max_length=100)]
Version = Annotated[str, StringConstraints(max_length=200)]
# Stored in a 32-bit column on both databases.


def _plausible_moment(value: datetime) -> datetime:
    """An AI incident happens between 1970 and 2200; anything else is a typing mistake."""
    try:
        moment = value.astimezone(UTC)
    except OverflowError:
        raise ValueError("the time is out of range") from None
    if not 1970 <= moment.year <= 2200:
        raise ValueError("use a time between 1970 and 2200")
    return moment


Moment = Annotated[AwareDatetime, AfterValidator(_plausible_moment)]
Count = Annotated[int, Field(ge=0, le=2**31 - 1)]


class In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SystemVersion(In):
    """An inventory system (by slug) and the versions involved in the incident."""

    system: Slug
    model_version: Version = ""
    application_version: Version = ""


class IncidentCreate(In):
    title: Title
    summary: str = Field(default="", max_length=4000)
    categories: list[Slug] = Field(min_length=1, max_length=20)
    tags: list[Slug] | None = Field(
        default=None, max_length=50, description="default: the categories' default tags"
    )
    what_happened: str = Field(default="", max_length=20_000)
    began_at: Moment | None = None
    detected_at: Moment | None = Field(default=None, description="default: now")
    continuing: Continuing = Continuing.unknown
    systems: list[SystemVersion] = Field(default_factory=list, max_length=50)
    factors: dict[Slug, Slug] = Field(default_factory=dict, max_length=30)


class IncidentPatch(In):
    """Only the fields sent are changed; ``null`` clears a time or a count."""

    title: Title | None = None
    summary: str | None = Field(default=None, max_length=4000)
    categories: list[Slug] | None = Field(default=None, min_length=1, max_length=20)
    tags: list[Slug] | None = Field(default=None, max_length=50)
    what_happened: str | None = Field(default=None, max_length=20_000)
    began_at: Moment | None = None
    detected_at: Moment | None = None
    affected_people: Count | None = None
    affected_people_basis: CountBasis | None = None
    affected_decisions: Count | None = None
    affected_decisions_basis: CountBasis | None = None
    continuing: Continuing | None = None
    systems: list[SystemVersion] | None = Field(default=None, max_length=50)


class FactorsIn(In):
    factors: dict[Slug, Slug | None] = Field(
        min_length=1, max_length=30, description="factor → level; null removes the factor"
    )
    note: str | None = Field(default=None, max_length=4000)


class OverrideIn(In):
    level: Sev | None = Field(description="null clears the override")
    reason: Reason


class StatusIn(In):
    status: IncidentStatus
    outcome: Slug | None = Field(
        default=None, description="near_miss or not_an_incident, only when closing from triage"
    )
    reason: str | None = Field(default=None, max_length=4000)


class ParticipantIn(In):
    role: ParticipantRole
    username: str | None = Field(default=None, max_length=64)
    person: Slug | None = Field(default=None, description="inventory person slug")
    display_name: str | None = Field(default=None, max_length=200)


class RemovalIn(In):
    reason: str | None = Field(default=None, max_length=4000)


class ExternalRefIn(In):
    system: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    ticket: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    url: str | None = Field(default=None, max_length=2000)


class HarmIn(In):
    level: Slug
    note: str = Field(default="", max_length=4000)


class HarmAssessmentIn(In):
    dimensions: dict[Slug, HarmIn] = Field(
        max_length=50, description="the whole assessment; dimensions left out are unassessed"
    )


class ClaimIn(In):
    statement: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)
    ]
    kind: ClaimKind = ClaimKind.finding
    cause_candidate: Slug | None = None


class ClaimStatusIn(In):
    status: ClaimStatus
    reason: str | None = Field(default=None, max_length=4000)
    confirmed_by: str | None = Field(
        default=None,
        max_length=200,
        description="the person who confirms; defaults to the signed-in user",
    )


class EvidenceIn(In):
    ref: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
    note: str = Field(default="", max_length=4000)


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class AffectedSystemOut(Out):
    system: str
    name: str
    criticality: str
    model_version: str
    application_version: str


class LabelledOut(Out):
    id: str
    label: str


class HarmOut(Out):
    dimension: str
    label: str
    level: str | None
    note: str


class SeverityOut(Out):
    level: Sev | None = Field(description="effective: the override if any, else computed")
    computed: Sev | None
    override: Sev | None
    override_reason: str | None
    override_by: str | None
    override_at: datetime | None
    factors: dict[str, str]
    assessment: SeverityAssessment | None
    route: Route | None
    route_note: str


class ParticipantOut(Out):
    id: int
    role: ParticipantRole
    username: str | None
    person: str | None
    display_name: str
    active: bool
    added_at: datetime
    added_by: str
    removed_at: datetime | None
    removed_by: str | None
    removal_reason: str | None


class ExternalRefOut(Out):
    id: int
    system: str
    ticket: str
    url: str | None
    added_at: datetime
    added_by: str
    removed_at: datetime | None
    removed_by: str | None


class EvidenceOut(Out):
    id: int
    ref: str
    note: str
    added_at: datetime
    added_by: str


class ClaimOut(Out):
    id: int
    statement: str
    kind: ClaimKind
    cause_candidate: str | None
    status: ClaimStatus
    created_at: datetime
    created_by: str
    updated_at: datetime
    confirmed_by: str | None
    confirmed_by_actor: str | None
    confirmed_at: datetime | None
    evidence: list[EvidenceOut]
    allowed_transitions: list[ClaimStatus]


class IncidentSummary(Out):
    key: str
    title: str
    status: IncidentStatus
    outcome: str | None
    severity: Sev | None
    severity_overridden: bool
    categories: list[str]
    commander: str | None
    detected_at: datetime | None
    created_at: datetime
    updated_at: datetime


class IncidentDetail(Out):
    """Everything the incident page shows, except the timeline (its own call)."""

    key: str
    title: str
    summary: str
    status: IncidentStatus
    outcome: str | None
    closure_reason: str | None
    allowed_transitions: list[IncidentStatus]
    categories: list[LabelledOut]
    tags: list[str]
    what_happened: str
    began_at: datetime | None
    detected_at: datetime | None
    affected_people: int | None
    affected_people_basis: CountBasis | None
    affected_decisions: int | None
    affected_decisions_basis: CountBasis | None
    continuing: Continuing
    systems: list[AffectedSystemOut]
    harm: list[HarmOut]
    severity: SeverityOut
    commander: ParticipantOut | None
    participants: list[ParticipantOut]
    external_refs: list[ExternalRefOut]
    claims: list[ClaimOut]
    suggested_actions: list[Action]
    acknowledged_at: datetime | None
    contained_at: datetime | None
    recovering_at: datetime | None
    monitoring_at: datetime | None
    closed_at: datetime | None
    created_at: datetime
    created_by: str
    updated_at: datetime


class TimelineEventOut(Out):
    seq: int
    at: datetime
    actor: str
    kind: str
    entity_type: str
    entity_id: int | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    note: str | None
