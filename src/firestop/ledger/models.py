"""The interaction ledger (D2): what AI systems did, kept as evidence of what happened.

Columns hold what is searched (system, times, people, versions, tools); the rest of a record
sits in two JSON documents: ``content`` (prompt, instructions, output, retrieved text, tool
arguments and results — what the content policy governs) and ``details`` (parameters,
permissions, moderation, feedback, decisions, outcome, usage). Downstream artefacts get their
own table because containment looks them up by type and reference.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from firestop.db import Base, utcnow
from firestop.inventory.models import System


class ContentMode(StrEnum):
    """How a system's prompt and output text is kept."""

    raw = "raw"  # as sent; every read is recorded
    redacted = "redacted"  # personal data and secrets replaced by their kind before storage
    hashed = "hashed"  # only SHA-256 of each text: proves what was said, does not reveal it


class Interaction(Base):
    __tablename__ = "interactions"
    __table_args__ = (
        # The client's id makes ingest idempotent; it is unique within a system.
        UniqueConstraint("system_id", "client_id", name="uq_interactions_client"),
        Index("ix_interactions_system_started", "system_id", "started_at"),
        Index("ix_interactions_system_model", "system_id", "model", "model_version"),
        Index("ix_interactions_trace", "trace_id", "span_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    system_id: Mapped[int] = mapped_column(ForeignKey("systems.id"))
    client_id: Mapped[str | None] = mapped_column(String(200))
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    # Not indexed: nothing searches by arrival time, and ingest pays for every index.
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    user_id: Mapped[str | None] = mapped_column(String(200), index=True)
    session_id: Mapped[str | None] = mapped_column(String(200))
    trace_id: Mapped[str | None] = mapped_column(String(32))
    span_id: Mapped[str | None] = mapped_column(String(16))
    model: Mapped[str | None] = mapped_column(String(200))
    provider: Mapped[str | None] = mapped_column(String(200))
    model_version: Mapped[str | None] = mapped_column(String(200))
    app_version: Mapped[str | None] = mapped_column(String(200))
    instructions_version: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), default="ok")
    # Space-separated names of the tools called, for blast-radius queries by tool.
    tools: Mapped[str] = mapped_column(Text, default="")
    content_mode: Mapped[str] = mapped_column(String(20), default=ContentMode.raw.value)
    content: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # SHA-256 of the content as received, before any redaction: what was said can be proven.
    content_sha256: Mapped[str] = mapped_column(String(64))
    # Set when retention dropped or hashed the content.
    content_reduced_at: Mapped[datetime | None]
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)

    system: Mapped[System] = relationship()
    downstream: Mapped[list[Artefact]] = relationship(
        back_populates="interaction", order_by="Artefact.id"
    )


class Artefact(Base):
    """Something an interaction produced elsewhere: a customer message, a code change, …"""

    __tablename__ = "artefacts"
    __table_args__ = (Index("ix_artefacts_type_ref", "type", "ref"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    interaction_id: Mapped[int] = mapped_column(
        ForeignKey("interactions.id", ondelete="CASCADE"), index=True
    )
    system_id: Mapped[int] = mapped_column(ForeignKey("systems.id"), index=True)
    type: Mapped[str] = mapped_column(String(40))
    ref: Mapped[str] = mapped_column(String(2000))
    produced_at: Mapped[datetime | None]

    interaction: Mapped[Interaction] = relationship(back_populates="downstream")


class ContentRead(Base):
    """Someone read an interaction's raw content: kept for privacy accountability."""

    __tablename__ = "content_reads"

    id: Mapped[int] = mapped_column(primary_key=True)
    interaction_id: Mapped[int] = mapped_column(
        ForeignKey("interactions.id", ondelete="CASCADE"), index=True
    )
    reader: Mapped[str] = mapped_column(String(120))
    read_at: Mapped[datetime] = mapped_column(default=utcnow)
    purpose: Mapped[str] = mapped_column(String(500), default="")


class Hold(Base):
    """An incident keeps an interaction: retention leaves its content alone."""

    __tablename__ = "interaction_holds"
    __table_args__ = (UniqueConstraint("interaction_id", "incident_id", name="uq_holds_pair"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    interaction_id: Mapped[int] = mapped_column(
        ForeignKey("interactions.id", ondelete="CASCADE"), index=True
    )
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    held_at: Mapped[datetime] = mapped_column(default=utcnow)
    held_by: Mapped[str] = mapped_column(String(120))


class PendingTelemetry(Base):
    """OTLP pieces waiting for the span they belong to (log events, tool or retrieval spans).

    Older GenAI instrumentations send each message as a log record that may arrive before or
    after its span; agent frameworks send tool spans in other batches than the chat span.
    """

    __tablename__ = "pending_telemetry"
    __table_args__ = (Index("ix_pending_telemetry_key", "trace_id", "span_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    trace_id: Mapped[str] = mapped_column(String(32))
    span_id: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(20))  # message, tool, retrieval
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    received_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
