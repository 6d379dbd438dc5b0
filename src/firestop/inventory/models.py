"""The AI inventory (P5), the people who respond (P3) and the authority matrix (P4).

A system's models, data sources and tools are child rows owned by the system and replaced
wholesale when the system is saved. Everything else is addressed by its slug; people, teams,
vendors and systems refer to each other by foreign key so that a slug can change and a
reference cannot dangle.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    Column,
    ForeignKey,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from firestop.db import Base, utcnow


class Criticality(StrEnum):
    low = "low"
    medium = "medium"
    high = "high"
    critical = "critical"


class Lifecycle(StrEnum):
    planned = "planned"
    development = "development"
    pilot = "pilot"
    production = "production"
    retired = "retired"


class Classification(StrEnum):
    """Data classification, from least to most sensitive."""

    public = "public"
    internal = "internal"
    confidential = "confidential"
    restricted = "restricted"


class ToolKind(StrEnum):
    tool = "tool"  # a function the system calls (issue a refund, look up an order)
    connector = "connector"  # a link to another system or data store (CRM, ticketing)


class ResponseRole(StrEnum):
    """The roles people hold in responding to an incident with a system (P3)."""

    incident_commander = "incident_commander"
    product_owner = "product_owner"
    model_specialist = "model_specialist"
    data_specialist = "data_specialist"
    security = "security"
    privacy = "privacy"
    legal = "legal"
    communications = "communications"
    risk = "risk"
    business_lead = "business_lead"
    vendor_contact = "vendor_contact"


class Decision(StrEnum):
    """What the authority matrix says about taking an action (P4)."""

    pre_authorized = "pre_authorized"
    needs_approval = "needs_approval"
    forbidden = "forbidden"


class Team(Base):
    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    contact: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    members: Mapped[list[Person]] = relationship(back_populates="team", order_by="Person.slug")


class Person(Base):
    __tablename__ = "people"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320), default="")
    phone: Mapped[str] = mapped_column(String(50), default="")
    title: Mapped[str] = mapped_column(String(200), default="")
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    team: Mapped[Team | None] = relationship(back_populates="members")


class Vendor(Base):
    __tablename__ = "vendors"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    # [{name, email, phone, role}]: read and written whole, never queried inside.
    contacts: Mapped[list[Any]] = mapped_column(default=list)
    escalation_route: Mapped[list[Any]] = mapped_column(default=list)  # ordered steps
    notify_within_hours: Mapped[int | None]
    notification_terms: Mapped[str] = mapped_column(Text, default="")
    support_url: Mapped[str] = mapped_column(String(2000), default="")
    status_url: Mapped[str] = mapped_column(String(2000), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


system_vendors = Table(
    "system_vendors",
    Base.metadata,
    Column("system_id", ForeignKey("systems.id", ondelete="CASCADE"), primary_key=True),
    Column("vendor_id", ForeignKey("vendors.id"), primary_key=True, index=True),
)


class System(Base):
    """An AI system in the inventory."""

    __tablename__ = "systems"
    __table_args__ = (
        CheckConstraint("criticality IN ('low', 'medium', 'high', 'critical')", name="criticality"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), index=True)
    business_process: Mapped[str] = mapped_column(String(500), default="")
    criticality: Mapped[str] = mapped_column(String(20))
    lifecycle: Mapped[str] = mapped_column(String(20), default=Lifecycle.production.value)
    approved_uses: Mapped[list[Any]] = mapped_column(default=list)
    prohibited_uses: Mapped[list[Any]] = mapped_column(default=list)
    risk_assessment_id: Mapped[str] = mapped_column(String(200), default="")
    risk_assessment_url: Mapped[str] = mapped_column(String(2000), default="")
    fallback_manual_process: Mapped[str] = mapped_column(Text, default="")
    fallback_capacity: Mapped[str] = mapped_column(String(500), default="")
    fallback_what_stops: Mapped[str] = mapped_column(Text, default="")
    # The ledger's content policy for this system's interactions (see ledger.models).
    content_mode: Mapped[str] = mapped_column(String(20), default="raw")
    retention_days: Mapped[int | None]
    after_retention: Mapped[str] = mapped_column(String(10), default="hash")
    # Per-detector settings over the policy's defaults: {"pii": {"allow_domains": [...]}}.
    detectors: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # Where the entry came from when it was imported from a CycloneDX BOM.
    bom_ref: Mapped[str | None] = mapped_column(String(500))
    purl: Mapped[str | None] = mapped_column(String(2000))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    owner: Mapped[Person | None] = relationship()
    vendors: Mapped[list[Vendor]] = relationship(secondary=system_vendors, order_by="Vendor.slug")
    models: Mapped[list[SystemModel]] = relationship(
        back_populates="system", cascade="all, delete-orphan", order_by="SystemModel.position"
    )
    data_sources: Mapped[list[DataSource]] = relationship(
        back_populates="system", cascade="all, delete-orphan", order_by="DataSource.position"
    )
    tools: Mapped[list[Tool]] = relationship(
        back_populates="system", cascade="all, delete-orphan", order_by="Tool.position"
    )

    def tool(self, name: str) -> Tool | None:
        return next((t for t in self.tools if t.name == name), None)

    @property
    def approved_models(self) -> list[SystemModel]:
        return [m for m in self.models if m.approved]


class SystemModel(Base):
    """A model (and version) a system uses; ``approved`` says whether its use is sanctioned."""

    __tablename__ = "system_models"
    __table_args__ = (
        UniqueConstraint("system_id", "name", "version", name="uq_system_models_name_version"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    system_id: Mapped[int] = mapped_column(ForeignKey("systems.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(default=0)
    name: Mapped[str] = mapped_column(String(200))
    provider: Mapped[str] = mapped_column(String(200), default="")
    version: Mapped[str] = mapped_column(String(200), default="")
    approved: Mapped[bool] = mapped_column(default=False)
    bom_ref: Mapped[str | None] = mapped_column(String(500))
    purl: Mapped[str | None] = mapped_column(String(2000))

    system: Mapped[System] = relationship(back_populates="models")


class DataSource(Base):
    __tablename__ = "system_data_sources"
    __table_args__ = (UniqueConstraint("system_id", "name", name="uq_system_data_sources_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    system_id: Mapped[int] = mapped_column(ForeignKey("systems.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(default=0)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(100), default="")
    classification: Mapped[str] = mapped_column(String(20), default=Classification.internal.value)
    bom_ref: Mapped[str | None] = mapped_column(String(500))
    purl: Mapped[str | None] = mapped_column(String(2000))

    system: Mapped[System] = relationship(back_populates="data_sources")


class Tool(Base):
    """A tool or connector an AI system (usually an agent) can call."""

    __tablename__ = "system_tools"
    __table_args__ = (UniqueConstraint("system_id", "name", name="uq_system_tools_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    system_id: Mapped[int] = mapped_column(ForeignKey("systems.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(default=0)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20), default=ToolKind.tool.value)
    # A destructive tool changes something that cannot simply be taken back (money, records).
    destructive: Mapped[bool] = mapped_column(default=False)
    description: Mapped[str] = mapped_column(Text, default="")

    system: Mapped[System] = relationship(back_populates="tools")


class RoleAssignment(Base):
    """A person holds a response role for one system, or organisation-wide (no system)."""

    __tablename__ = "role_assignments"
    __table_args__ = (
        UniqueConstraint("system_id", "role", "person_id", name="uq_role_assignments_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    system_id: Mapped[int | None] = mapped_column(ForeignKey("systems.id"), index=True)
    role: Mapped[str] = mapped_column(String(40))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)

    system: Mapped[System | None] = relationship()
    person: Mapped[Person] = relationship()


class AuthorityRule(Base):
    """Whether an action may be taken on a system, or on every system of a criticality tier."""

    __tablename__ = "authority_rules"
    __table_args__ = (
        UniqueConstraint("action", "system_id", name="uq_authority_rules_action_system"),
        UniqueConstraint("action", "criticality", name="uq_authority_rules_action_criticality"),
        CheckConstraint("(system_id IS NULL) <> (criticality IS NULL)", name="one_scope"),
        CheckConstraint(
            "decision IN ('pre_authorized', 'needs_approval', 'forbidden')", name="decision"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    action: Mapped[str] = mapped_column(String(100))
    system_id: Mapped[int | None] = mapped_column(ForeignKey("systems.id"), index=True)
    criticality: Mapped[str | None] = mapped_column(String(20))
    decision: Mapped[str] = mapped_column(String(20))
    invokers: Mapped[list[Any]] = mapped_column(default=list)  # role names
    approvers: Mapped[list[Any]] = mapped_column(default=list)  # role names
    note: Mapped[str] = mapped_column(Text, default="")

    system: Mapped[System | None] = relationship()
