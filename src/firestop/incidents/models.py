"""Incidents (T1–T4): facts, harm, severity, participants, claims and the timeline."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from firestop.db import Base, utcnow
from firestop.incidents.timeline import install_append_only_guards
from firestop.inventory.models import Person, System


class IncidentStatus(StrEnum):
    triage = "triage"
    investigating = "investigating"
    contained = "contained"
    recovering = "recovering"
    monitoring = "monitoring"
    closed = "closed"


class Continuing(StrEnum):
    yes = "yes"
    no = "no"
    unknown = "unknown"


class CountBasis(StrEnum):
    estimate = "estimate"
    counted = "counted"


class ParticipantRole(StrEnum):
    commander = "commander"
    deputy = "deputy"
    scribe = "scribe"
    product_owner = "product_owner"
    model_specialist = "model_specialist"
    data_specialist = "data_specialist"
    security = "security"
    privacy = "privacy"
    legal = "legal"
    communications = "communications"
    risk = "risk"
    business_lead = "business_lead"
    vendor_liaison = "vendor_liaison"


class ClaimKind(StrEnum):
    finding = "finding"
    cause = "cause"
    impact = "impact"
    other = "other"


class ClaimStatus(StrEnum):
    hypothesis = "hypothesis"
    supported = "supported"
    confirmed = "confirmed"
    refuted = "refuted"


class IncidentCounter(Base):
    """The last incident number handed out in a year; keys are ``AI-<year>-<number>``."""

    __tablename__ = "incident_counters"

    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(default=0)


class Incident(Base):
    __tablename__ = "incidents"
    __table_args__ = (UniqueConstraint("year", "number", name="uq_incidents_year_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(20), unique=True)
    year: Mapped[int]
    number: Mapped[int]
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text, default="")
    categories: Mapped[list[Any]] = mapped_column(default=list)
    tags: Mapped[list[Any]] = mapped_column(default=list)
    status: Mapped[str] = mapped_column(String(20), default=IncidentStatus.triage.value, index=True)
    # Set only when an incident is closed from triage: near_miss or not_an_incident.
    outcome: Mapped[str | None] = mapped_column(String(64))
    closure_reason: Mapped[str | None] = mapped_column(Text)

    # T1 facts.
    what_happened: Mapped[str] = mapped_column(Text, default="")
    began_at: Mapped[datetime | None]
    detected_at: Mapped[datetime | None]
    affected_people: Mapped[int | None]
    affected_people_basis: Mapped[str | None] = mapped_column(String(10))
    affected_decisions: Mapped[int | None]
    affected_decisions_basis: Mapped[str | None] = mapped_column(String(10))
    continuing: Mapped[str] = mapped_column(String(10), default=Continuing.unknown.value)

    # T2 harm: {dimension: {"level": ..., "note": ...}} over the policy's harm dimensions.
    harm: Mapped[dict[str, Any]] = mapped_column(default=dict)

    # Severity: the rubric's factor levels and the assessment computed from them.
    severity_factors: Mapped[dict[str, Any]] = mapped_column(default=dict)
    computed_severity: Mapped[str | None] = mapped_column(String(4))
    severity_assessment: Mapped[dict[str, Any] | None] = mapped_column()
    severity_override: Mapped[str | None] = mapped_column(String(4))
    severity_override_reason: Mapped[str | None] = mapped_column(Text)
    severity_override_by: Mapped[str | None] = mapped_column(String(120))
    severity_override_at: Mapped[datetime | None]

    # The first time the incident entered each stage; MTTA/MTTC/MTTR are measured from these.
    acknowledged_at: Mapped[datetime | None]  # entered investigating
    contained_at: Mapped[datetime | None]
    recovering_at: Mapped[datetime | None]
    monitoring_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]

    # Sequence number of the last timeline event; raised atomically for each new event.
    timeline_seq: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(120))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    systems: Mapped[list[IncidentSystem]] = relationship(
        back_populates="incident", cascade="all, delete-orphan", order_by="IncidentSystem.position"
    )
    participants: Mapped[list[Participant]] = relationship(
        back_populates="incident", order_by="Participant.id"
    )
    external_refs: Mapped[list[ExternalRef]] = relationship(
        back_populates="incident", order_by="ExternalRef.id"
    )
    claims: Mapped[list[Claim]] = relationship(back_populates="incident", order_by="Claim.id")

    @property
    def severity(self) -> str | None:
        """The effective severity: the override when there is one, else the computed level."""
        return self.severity_override or self.computed_severity

    @property
    def is_open(self) -> bool:
        return self.status != IncidentStatus.closed


class IncidentSystem(Base):
    """An inventory system affected by an incident, with the versions involved."""

    __tablename__ = "incident_systems"
    __table_args__ = (
        UniqueConstraint("incident_id", "system_id", name="uq_incident_systems_system"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"))
    system_id: Mapped[int] = mapped_column(ForeignKey("systems.id"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    model_version: Mapped[str] = mapped_column(String(200), default="")
    application_version: Mapped[str] = mapped_column(String(200), default="")

    incident: Mapped[Incident] = relationship(back_populates="systems")
    system: Mapped[System] = relationship()


class Participant(Base):
    """Someone working on an incident in a role; removal is recorded, the row is kept."""

    __tablename__ = "incident_participants"
    __table_args__ = (
        # At most one active commander per incident, even under concurrent writes.
        Index(
            "uq_incident_participants_commander",
            "incident_id",
            unique=True,
            sqlite_where=text("role = 'commander' AND removed_at IS NULL"),
            postgresql_where=text("role = 'commander' AND removed_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    username: Mapped[str | None] = mapped_column(String(64))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), index=True)
    display_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(32))
    added_at: Mapped[datetime] = mapped_column(default=utcnow)
    added_by: Mapped[str] = mapped_column(String(120))
    removed_at: Mapped[datetime | None]
    removed_by: Mapped[str | None] = mapped_column(String(120))
    removal_reason: Mapped[str | None] = mapped_column(Text)

    incident: Mapped[Incident] = relationship(back_populates="participants")
    person: Mapped[Person | None] = relationship()

    @property
    def active(self) -> bool:
        return self.removed_at is None


class ExternalRef(Base):
    """The incident's ticket in the organisation's established process (ServiceNow, Jira …)."""

    __tablename__ = "incident_external_refs"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    system: Mapped[str] = mapped_column(String(100))
    ticket: Mapped[str] = mapped_column(String(200))
    url: Mapped[str | None] = mapped_column(String(2000))
    added_at: Mapped[datetime] = mapped_column(default=utcnow)
    added_by: Mapped[str] = mapped_column(String(120))
    removed_at: Mapped[datetime | None]
    removed_by: Mapped[str | None] = mapped_column(String(120))

    incident: Mapped[Incident] = relationship(back_populates="external_refs")


class Claim(Base):
    """A finding with a status (T3): nothing is confirmed without evidence and a confirmer."""

    __tablename__ = "claims"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    statement: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(16))
    cause_candidate: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default=ClaimStatus.hypothesis.value)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(120))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The named person who confirmed it, and the account that recorded the confirmation.
    confirmed_by: Mapped[str | None] = mapped_column(String(200))
    confirmed_by_actor: Mapped[str | None] = mapped_column(String(120))
    confirmed_at: Mapped[datetime | None]

    incident: Mapped[Incident] = relationship(back_populates="claims")
    evidence: Mapped[list[EvidenceRef]] = relationship(
        back_populates="claim", order_by="EvidenceRef.id"
    )


class EvidenceRef(Base):
    """A pointer to what supports a claim: free text or a URL. Kept once added."""

    __tablename__ = "claim_evidence"

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claims.id"), index=True)
    ref: Mapped[str] = mapped_column(String(2000))
    note: Mapped[str] = mapped_column(Text, default="")
    added_at: Mapped[datetime] = mapped_column(default=utcnow)
    added_by: Mapped[str] = mapped_column(String(120))

    claim: Mapped[Claim] = relationship(back_populates="evidence")


class TimelineEvent(Base):
    """One change to an incident, in order. Rows are only ever inserted."""

    __tablename__ = "timeline_events"
    __table_args__ = (UniqueConstraint("incident_id", "seq", name="uq_timeline_events_seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"))
    seq: Mapped[int]
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(40))
    entity_type: Mapped[str] = mapped_column(String(20))
    entity_id: Mapped[int | None]
    before: Mapped[dict[str, Any] | None] = mapped_column()
    after: Mapped[dict[str, Any] | None] = mapped_column()
    note: Mapped[str | None] = mapped_column(Text)


install_append_only_guards(TimelineEvent)
