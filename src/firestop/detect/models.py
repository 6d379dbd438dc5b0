"""What detectors found, and the state that stream detectors carry from batch to batch."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from firestop.db import Base, utcnow


class FindingRow(Base):
    """One detector finding: the rule, the place and a redacted excerpt (never the raw value)."""

    __tablename__ = "findings"
    __table_args__ = (Index("ix_findings_system_detector", "system_id", "detector", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    interaction_id: Mapped[int | None] = mapped_column(
        ForeignKey("interactions.id", ondelete="CASCADE"), index=True
    )
    system_id: Mapped[int | None] = mapped_column(ForeignKey("systems.id"))
    signal_id: Mapped[int | None] = mapped_column(
        ForeignKey("signals.id", ondelete="SET NULL"), index=True
    )
    detector: Mapped[str] = mapped_column(String(64))
    rule: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(200))
    path: Mapped[str | None] = mapped_column(String(200))
    start: Mapped[int | None]
    end: Mapped[int | None]
    excerpt: Mapped[str] = mapped_column(Text, default="")
    severity: Mapped[str | None] = mapped_column(String(4))
    category: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DetectorState(Base):
    """A stream detector's running state for one system and key (a baseline, a window)."""

    __tablename__ = "detector_state"
    __table_args__ = (
        UniqueConstraint("detector", "system_id", "key", name="uq_detector_state_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    detector: Mapped[str] = mapped_column(String(64))
    system_id: Mapped[int] = mapped_column(ForeignKey("systems.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(200))
    state: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class MetricPoint(Base):
    """A value posted to ``/api/v1/metrics``: technical or business, for drift detection."""

    __tablename__ = "metric_points"
    __table_args__ = (Index("ix_metric_points_series", "system_id", "name", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    system_id: Mapped[int] = mapped_column(ForeignKey("systems.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    value: Mapped[float]
    at: Mapped[datetime]
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
