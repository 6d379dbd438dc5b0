"""API shapes for reports and signals."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

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
    system: str | None
    title: str
    summary: str
    category_hint: str | None
    severity_hint: str | None
    fingerprint: str
    status: SignalStatus
    created_at: datetime
    report: str | None = Field(description="reference of the report it came from")
    incident: str | None = Field(description="key of the incident it was accepted into")
    decided_by: str | None
    decided_at: datetime | None
    decision_reason: str | None


class SignalDetail(SignalOut):
    report_detail: ReportOut | None


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
