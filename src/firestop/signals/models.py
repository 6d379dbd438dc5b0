"""Reports from anyone (D1) and the signals they become, with their triage decision (D4)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from firestop.db import Base, utcnow
from firestop.inventory.models import System

if TYPE_CHECKING:
    from firestop.incidents.models import Incident


class ReportChannel(StrEnum):
    web = "web"
    api = "api"
    help_desk = "help_desk"
    complaint = "complaint"
    email = "email"
    phone = "phone"
    other = "other"


class SignalSource(StrEnum):
    report = "report"  # someone reported it
    detector = "detector"  # a detector over the interaction ledger
    alert = "alert"  # another tool (DLP, SIEM, vendor status) through a webhook


class SignalStatus(StrEnum):
    new = "new"  # waiting in the triage queue
    accepted = "accepted"  # became, or joined, an incident
    near_miss = "near_miss"  # harm was possible and did not happen; trended
    dismissed = "dismissed"  # not worth acting on; the reason is kept


class Report(Base):
    """What someone told us, kept exactly as given (hostile text, never interpreted)."""

    __tablename__ = "reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Unguessable: the reference alone lets anyone see the report's coarse status.
    reference: Mapped[str] = mapped_column(String(32), unique=True)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    text: Mapped[str] = mapped_column(Text)
    # The system as the reporter named it; linked below only when it matches the inventory.
    system_text: Mapped[str | None] = mapped_column(String(200))
    system_id: Mapped[int | None] = mapped_column(ForeignKey("systems.id"), index=True)
    interaction_ref: Mapped[str | None] = mapped_column(String(500))
    contact: Mapped[str | None] = mapped_column(String(500))
    channel: Mapped[str] = mapped_column(String(20))
    submitted_by: Mapped[str | None] = mapped_column(String(120))

    system: Mapped[System | None] = relationship()
    signal: Mapped[Signal] = relationship(back_populates="report")


class Signal(Base):
    """Something that may be an incident, waiting for (or having had) a triage decision."""

    __tablename__ = "signals"

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(20), index=True)
    detector_id: Mapped[str | None] = mapped_column(String(100))
    system_id: Mapped[int | None] = mapped_column(ForeignKey("systems.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text, default="")
    category_hint: Mapped[str | None] = mapped_column(String(64))
    severity_hint: Mapped[str | None] = mapped_column(String(4))
    # Same source, detector, system and text give the same fingerprint (for deduplication).
    fingerprint: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(20), default=SignalStatus.new.value, index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    report_id: Mapped[int | None] = mapped_column(ForeignKey("reports.id"), unique=True)
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id"), index=True)
    decided_by: Mapped[str | None] = mapped_column(String(120))
    decided_at: Mapped[datetime | None]
    decision_reason: Mapped[str | None] = mapped_column(Text)
    # D4: the detector rule that fired, and how often the same thing recurred.
    rule: Mapped[str | None] = mapped_column(String(200))
    occurrences: Mapped[int] = mapped_column(default=1)
    first_seen: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    # Recurring at scale crossed the policy's aggregation threshold.
    escalated: Mapped[bool] = mapped_column(default=False)
    # The policy route that decided where the signal went, when one matched.
    route_rule: Mapped[str | None] = mapped_column(String(100))
    snoozed_until: Mapped[datetime | None]
    snoozed_by: Mapped[str | None] = mapped_column(String(120))
    snooze_reason: Mapped[str | None] = mapped_column(Text)

    system: Mapped[System | None] = relationship()
    report: Mapped[Report | None] = relationship(back_populates="signal")
    incident: Mapped[Incident | None] = relationship()


class SignalInteraction(Base):
    """An interaction behind a signal (a signal may gather thousands of them)."""

    __tablename__ = "signal_interactions"

    signal_id: Mapped[int] = mapped_column(
        ForeignKey("signals.id", ondelete="CASCADE"), primary_key=True
    )
    interaction_id: Mapped[int] = mapped_column(
        ForeignKey("interactions.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    user_id: Mapped[str | None] = mapped_column(String(200))
    seen_at: Mapped[datetime] = mapped_column(default=utcnow)
