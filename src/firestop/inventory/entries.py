"""Inventory rows as entries and entries as rows: the one place both directions are written.

Saving an entry reports whether it created the row, changed it or found it already equal, so
an import can say what it did and a repeated import changes nothing (not even timestamps).
Callers check references first; the save functions assume the slugs they are given exist.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from firestop.db import Base, utcnow
from firestop.errors import not_found
from firestop.inventory.models import (
    DataSource,
    Person,
    System,
    SystemModel,
    Team,
    Tool,
    Vendor,
)
from firestop.inventory.schemas import (
    DataSourceIn,
    FallbackPlan,
    ModelIn,
    PersonIn,
    RiskAssessmentRef,
    SystemIn,
    TeamIn,
    ToolIn,
    VendorContact,
    VendorIn,
)

Outcome = Literal["created", "updated", "unchanged"]
Place = tuple[str | int, ...]
Problem = tuple[Place, str]  # a place inside one entry and what is wrong there
Row = TypeVar("Row", Team, Person, Vendor, System)

_SYSTEM_LOAD = (
    selectinload(System.owner),
    selectinload(System.vendors),
    selectinload(System.models),
    selectinload(System.data_sources),
    selectinload(System.tools),
)


def find(db: Session, kind: type[Row], slug: str) -> Row | None:
    query = select(kind).where(kind.slug == slug)
    if kind is System:
        query = query.options(*_SYSTEM_LOAD)
    return db.scalar(query)


def get(db: Session, kind: type[Row], slug: str) -> Row:
    row = find(db, kind, slug)
    if row is None:
        raise not_found(f"no {_LABEL[kind]} {slug!r} in the inventory")
    return row


def every(db: Session, kind: type[Row]) -> list[Row]:
    query = select(kind).order_by(kind.slug)
    if kind is System:
        query = query.options(*_SYSTEM_LOAD)
    elif kind is Person:
        query = query.options(selectinload(Person.team))
    return list(db.scalars(query))


_LABEL: dict[type[Base], str] = {Team: "team", Person: "person", Vendor: "vendor", System: "system"}


@dataclass
class Known:
    """The slugs a reference may name: what is stored, plus what a file being imported adds."""

    people: set[str]
    teams: set[str]
    vendors: set[str]
    systems: set[str]

    @classmethod
    def from_db(cls, db: Session) -> Known:
        def slugs(kind: type[Row]) -> set[str]:
            return set(db.scalars(select(kind.slug)))

        return cls(slugs(Person), slugs(Team), slugs(Vendor), slugs(System))


def person_problems(entry: PersonIn, known: Known) -> list[Problem]:
    if entry.team is not None and entry.team not in known.teams:
        return [(("team",), f"no team {entry.team!r} in the inventory")]
    return []


def system_problems(entry: SystemIn, known: Known) -> list[Problem]:
    found: list[Problem] = []
    if entry.owner is not None and entry.owner not in known.people:
        found.append((("owner",), f"no person {entry.owner!r} in the inventory"))
    missing = [v for v in entry.vendors if v not in known.vendors]
    if missing:
        found.append((("vendors",), f"no vendor {', '.join(map(repr, missing))} in the inventory"))
    return found


def team_entry(team: Team) -> TeamIn:
    return TeamIn(slug=team.slug, name=team.name, contact=team.contact)


def person_entry(person: Person) -> PersonIn:
    return PersonIn(
        slug=person.slug,
        name=person.name,
        email=person.email,
        phone=person.phone,
        team=person.team.slug if person.team else None,
        title=person.title,
    )


def vendor_entry(vendor: Vendor) -> VendorIn:
    return VendorIn(
        slug=vendor.slug,
        name=vendor.name,
        description=vendor.description,
        contacts=[VendorContact.model_validate(c) for c in vendor.contacts],
        escalation_route=list(vendor.escalation_route),
        notify_within_hours=vendor.notify_within_hours,
        notification_terms=vendor.notification_terms,
        support_url=vendor.support_url,
        status_url=vendor.status_url,
    )


def _models(system: System) -> list[ModelIn]:
    return [
        ModelIn(
            name=m.name,
            provider=m.provider,
            version=m.version,
            approved=m.approved,
            bom_ref=m.bom_ref,
            purl=m.purl,
        )
        for m in system.models
    ]


def _data_sources(system: System) -> list[DataSourceIn]:
    return [
        DataSourceIn.model_validate(
            {
                "name": d.name,
                "kind": d.kind,
                "classification": d.classification,
                "bom_ref": d.bom_ref,
                "purl": d.purl,
            }
        )
        for d in system.data_sources
    ]


def _tools(system: System) -> list[ToolIn]:
    return [
        ToolIn.model_validate(
            {
                "name": t.name,
                "kind": t.kind,
                "destructive": t.destructive,
                "description": t.description,
            }
        )
        for t in system.tools
    ]


def system_entry(system: System) -> SystemIn:
    return SystemIn.model_validate(
        {
            "slug": system.slug,
            "name": system.name,
            "description": system.description,
            "owner": system.owner.slug if system.owner else None,
            "business_process": system.business_process,
            "criticality": system.criticality,
            "lifecycle": system.lifecycle,
            "models": _models(system),
            "data_sources": _data_sources(system),
            "tools": _tools(system),
            "vendors": [v.slug for v in system.vendors],
            "approved_uses": list(system.approved_uses),
            "prohibited_uses": list(system.prohibited_uses),
            "risk_assessment": RiskAssessmentRef(
                id=system.risk_assessment_id, url=system.risk_assessment_url
            ),
            "fallback": FallbackPlan(
                manual_process=system.fallback_manual_process,
                capacity=system.fallback_capacity,
                what_stops=system.fallback_what_stops,
            ),
            "ledger": {
                "content": system.content_mode,
                "retention_days": system.retention_days,
                "after_retention": system.after_retention,
            },
            "detectors": system.detectors,
            "bom_ref": system.bom_ref,
            "purl": system.purl,
        }
    )


def _outcome(row: Row, existing: Row | None) -> Outcome:
    now = utcnow()
    if existing is None:
        row.created_at = now
    row.updated_at = now
    return "created" if existing is None else "updated"


def save_team(db: Session, *, entry: TeamIn, existing: Team | None) -> tuple[Team, Outcome]:
    if existing is not None and team_entry(existing) == entry:
        return existing, "unchanged"
    team = existing or Team()
    team.slug, team.name, team.contact = entry.slug, entry.name, entry.contact
    db.add(team)
    return team, _outcome(team, existing)


def save_person(db: Session, *, entry: PersonIn, existing: Person | None) -> tuple[Person, Outcome]:
    if existing is not None and person_entry(existing) == entry:
        return existing, "unchanged"
    person = existing or Person()
    person.slug, person.name, person.title = entry.slug, entry.name, entry.title
    person.email, person.phone = entry.email, entry.phone
    person.team = get(db, Team, entry.team) if entry.team else None
    db.add(person)
    return person, _outcome(person, existing)


def save_vendor(db: Session, *, entry: VendorIn, existing: Vendor | None) -> tuple[Vendor, Outcome]:
    if existing is not None and vendor_entry(existing) == entry:
        return existing, "unchanged"
    vendor = existing or Vendor()
    vendor.slug, vendor.name, vendor.description = entry.slug, entry.name, entry.description
    vendor.contacts = [c.model_dump() for c in entry.contacts]
    vendor.escalation_route = list(entry.escalation_route)
    vendor.notify_within_hours = entry.notify_within_hours
    vendor.notification_terms = entry.notification_terms
    vendor.support_url, vendor.status_url = entry.support_url, entry.status_url
    db.add(vendor)
    return vendor, _outcome(vendor, existing)


def save_system(db: Session, *, entry: SystemIn, existing: System | None) -> tuple[System, Outcome]:
    current = system_entry(existing) if existing is not None else None
    if current == entry:
        assert existing is not None
        return existing, "unchanged"
    system = existing or System()
    system.slug, system.name, system.description = entry.slug, entry.name, entry.description
    system.owner = get(db, Person, entry.owner) if entry.owner else None
    system.business_process = entry.business_process
    system.criticality, system.lifecycle = entry.criticality.value, entry.lifecycle.value
    system.vendors = [get(db, Vendor, slug) for slug in entry.vendors]
    system.approved_uses = list(entry.approved_uses)
    system.prohibited_uses = list(entry.prohibited_uses)
    system.risk_assessment_id = entry.risk_assessment.id
    system.risk_assessment_url = entry.risk_assessment.url
    system.fallback_manual_process = entry.fallback.manual_process
    system.fallback_capacity = entry.fallback.capacity
    system.fallback_what_stops = entry.fallback.what_stops
    system.content_mode = entry.ledger.content
    system.retention_days = entry.ledger.retention_days
    system.after_retention = entry.ledger.after_retention
    system.detectors = entry.detectors
    system.bom_ref, system.purl = entry.bom_ref, entry.purl
    db.add(system)
    _replace_children(db, system, entry, current)
    return system, _outcome(system, existing)


def _replace_children(
    db: Session, system: System, entry: SystemIn, current: SystemIn | None
) -> None:
    """Replace only the child lists that changed, so unchanged children keep their ids."""
    changed = [
        name
        for name in ("models", "data_sources", "tools")
        if current is None or getattr(current, name) != getattr(entry, name)
    ]
    if current is not None and changed:
        for name in changed:
            getattr(system, name).clear()
        # Old rows must be gone before new ones with the same names arrive (unique keys).
        db.flush()
    if "models" in changed:
        system.models = _rows(SystemModel, entry.models)
    if "data_sources" in changed:
        system.data_sources = _rows(DataSource, entry.data_sources)
    if "tools" in changed:
        system.tools = _rows(Tool, entry.tools)


Child = TypeVar("Child", SystemModel, DataSource, Tool)


def _rows(kind: type[Child], items: Sequence[ModelIn | DataSourceIn | ToolIn]) -> list[Child]:
    return [kind(position=i, **item.model_dump(mode="json")) for i, item in enumerate(items)]
