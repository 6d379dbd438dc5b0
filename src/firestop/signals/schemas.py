"""API shapes for reports and signals."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal, Self

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from firestop.incidents.schemas import Reason, Slug, Title
from firestop.signals.models import SignalSource, SignalStatus

Channel = Literal["web", "api", "help_desk", "complaint", "email", "phone", "other"]


class ReportIn(BaseModel):
    """A report needs only its text; everything else is optional and never classified."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=100_000, description="what happened")
    system: str | None = Field(default=None, max_length=200, description="the AI system")
    interaction_ref: str | None = Field(
        default=None, max_length=500, description="id of the AI interaction, if known"
    )
    contact: str | None = Field(
        default=None, max_length=500, description="e-mail, phone or anything else; optional"
    )
    channel: Channel = "api"

    @field_validator("text")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the report text must not be blank")
        return value


class PublicStatus(StrEnum):
    received = "received"
    under_review = "under_review"
    linked_to_incident = "linked_to_incident"
    closed = "closed"


class ReportReceipt(BaseModel):
    reference: str = Field(description="keep it: it is the only way to follow the report")
    url: str
    status: PublicStatus
    received_at: datetime


class ReportStatus(BaseModel):
    """What anyone holding the reference may see: nothing internal."""

    reference: str
    received_at: datetime
    status: PublicStatus
    description: str


class ReportOut(BaseModel):
    reference: str
    received_at: datetime
    channel: str
    text: str
    system_text: str | None
    interaction_ref: str | None
    submitted_by: str | None
    contact: str | None = Field(description="shown only to those who may triage")


class SignalOut(BaseModel):
    id: int
    source: SignalSource
    detector_id: str | None
    rule: str | None = Field(description="the detector rule that fired (pii.email)")
    system: str | None
    title: str
    summary: str
    category_hint: str | None
    severity_hint: str | None
    fingerprint: str
    status: SignalStatus
    created_at: datetime
    first_seen: datetime
    last_seen: datetime
    occurrences: int = Field(description="how often it was seen; repeats within the window add")
    interactions: int = Field(description="how many interactions are linked to it")
    escalated: bool = Field(description="it crossed the policy's aggregation threshold")
    route_rule: str | None = Field(description="the policy route that decided where it went")
    snoozed: bool = Field(description="snoozed now: hidden from the triage queue")
    snoozed_until: datetime | None = Field(
        description="end of the last snooze (in the past once it ended or was lifted)"
    )
    snoozed_by: str | None
    snooze_reason: str | None
    report: str | None = Field(description="reference of the report it came from")
    incident: str | None = Field(description="key of the incident it was accepted into")
    decided_by: str | None
    decided_at: datetime | None
    decision_reason: str | None


class LinkedInteraction(BaseModel):
    """An interaction behind a signal, without its content (follow ``url`` for more)."""

    id: int
    client_id: str | None
    system: str
    user_id: str | None
    started_at: datetime
    seen_at: datetime = Field(description="when the signal's detector saw it")
    url: str


class SignalFinding(BaseModel):
    """What a detector found: the rule and the place, with the match itself redacted."""

    id: int
    interaction_id: int | None
    detector: str
    rule: str
    title: str
    path: str | None
    start: int | None
    end: int | None
    excerpt: str
    severity: str | None
    created_at: datetime


class InteractionPage(BaseModel):
    total: int
    limit: int
    offset: int
    items: list[LinkedInteraction]


class FindingPage(BaseModel):
    total: int
    limit: int
    offset: int
    items: list[SignalFinding]


class SignalDetail(SignalOut):
    report_detail: ReportOut | None
    linked_interactions: InteractionPage = Field(
        description="the first interactions; page through /signals/{id}/interactions"
    )
    findings: FindingPage = Field(
        description="the first findings; page through /signals/{id}/findings"
    )


class SignalGroup(BaseModel):
    """The signals that share a fingerprint: one problem seen again and again."""

    fingerprint: str
    title: str = Field(description="the latest signal's title")
    source: SignalSource
    detector_id: str | None
    rule: str | None
    system: str | None
    signals: int
    occurrences: int = Field(description="total over the group's signals")
    first_seen: datetime
    last_seen: datetime
    latest_signal: int
    latest_status: SignalStatus
    snoozed_until: datetime | None = Field(description="set while the fingerprint is snoozed")


# Snoozes are for noise that is understood, not for hiding a problem: a quarter at most.
SNOOZE_MAX_DAYS = 90


class SnoozeIn(BaseModel):
    """Snooze until a time or for a number of minutes (one of the two), with the reason."""

    model_config = ConfigDict(extra="forbid")

    until: AwareDatetime | None = Field(default=None, description="in the future, ≤ 90 days")
    minutes: int | None = Field(default=None, ge=1, le=SNOOZE_MAX_DAYS * 24 * 60)
    reason: Reason

    @model_validator(mode="after")
    def _one_end(self) -> Self:
        if (self.until is None) == (self.minutes is None):
            raise ValueError("give either 'until' or 'minutes', not both and not neither")
        return self


class AlertResult(BaseModel):
    index: int = Field(description="position of the alert in the request (0 for one object)")
    signal: int
    outcome: Literal["new", "deduplicated"] = Field(
        description="a new signal, or a repeat counted on the signal already open"
    )
    escalated: bool = Field(description="this alert took the signal over the aggregation line")
    status: SignalStatus
    route_rule: str | None
    system: str | None = Field(description="the inventory system it was linked to")
    notes: list[str] = Field(description="what could not be used (an unknown system, …)")


class RejectedAlert(BaseModel):
    index: int
    errors: list[dict[str, str]]


class AlertsResult(BaseModel):
    source: str
    accepted: int
    results: list[AlertResult]
    rejected: list[RejectedAlert]


class AcceptIn(BaseModel):
    """Accept into an existing incident (``incident``) or a new one (``title``, ``categories``)."""

    model_config = ConfigDict(extra="forbid")

    incident: Annotated[str, StringConstraints(max_length=20)] | None = None
    title: Title | None = Field(default=None, description="default: the signal's title")
    categories: list[Slug] | None = Field(default=None, min_length=1, max_length=20)
    factors: dict[Slug, Slug] = Field(default_factory=dict, max_length=30)
    note: str | None = Field(default=None, max_length=4000)


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Reason
