"""The inventory service: systems, people, teams and vendors, plus import, export and the
authority matrix re-exported from their modules. Functions take a session and never commit.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from firestop.errors import conflict
from firestop.inventory.authority import (
    Authority,
    authorities,
    authority_for,
    create_assignment,
    create_rule,
    delete_assignment,
    delete_rule,
    get_assignment,
    get_rule,
    list_assignments,
    list_rules,
    reject,
    responders,
    update_assignment,
    update_rule,
)
from firestop.inventory.entries import (
    Known,
    every,
    get,
    person_entry,
    person_problems,
    save_person,
    save_system,
    save_team,
    save_vendor,
    system_entry,
    system_problems,
    team_entry,
    vendor_entry,
)
from firestop.inventory.exporter import export_document, export_yaml
from firestop.inventory.importer import import_document
from firestop.inventory.models import (
    AuthorityRule,
    Person,
    RoleAssignment,
    System,
    Team,
    Vendor,
    system_vendors,
)
from firestop.inventory.schemas import (
    PersonIn,
    PersonOut,
    SystemIn,
    SystemOut,
    TeamIn,
    TeamOut,
    VendorIn,
    VendorOut,
)

__all__ = [
    "Authority",
    "authorities",
    "authority_for",
    "create_assignment",
    "create_rule",
    "delete_assignment",
    "delete_rule",
    "export_document",
    "export_yaml",
    "get_assignment",
    "get_rule",
    "import_document",
    "list_assignments",
    "list_rules",
    "responders",
    "update_assignment",
    "update_rule",
]


def _free(db: Session, kind: type[System | Person | Team | Vendor], slug: str) -> None:
    if db.scalar(select(kind.id).where(kind.slug == slug)) is not None:
        raise conflict(f"{kind.__name__.lower()} {slug!r} already exists")


def _renamed(db: Session, kind: type[System | Person | Team | Vendor], old: str, new: str) -> None:
    if new != old:
        _free(db, kind, new)


def _delete(db: Session, row: System | Person | Team | Vendor, label: str) -> None:
    """Delete a row that no inventory record refers to; other areas' records may still."""
    db.delete(row)
    try:
        db.flush()
    except IntegrityError as exc:
        raise conflict(f"{label} is still referenced by records outside the inventory") from exc


def _still_used(label: str, uses: list[str]) -> None:
    if uses:
        raise conflict(f"{label} is still referenced by {'; '.join(uses)}; remove those first")


# Systems -----------------------------------------------------------------------------------


def list_systems(db: Session) -> list[System]:
    return every(db, System)


def get_system(db: Session, slug: str) -> System:
    return get(db, System, slug)


def system_out(system: System) -> SystemOut:
    return SystemOut(
        **system_entry(system).model_dump(),
        created_at=system.created_at,
        updated_at=system.updated_at,
    )


def create_system(db: Session, *, entry: SystemIn) -> System:
    _free(db, System, entry.slug)
    reject("the system is invalid", system_problems(entry, Known.from_db(db)))
    return save_system(db, entry=entry, existing=None)[0]


def update_system(db: Session, *, slug: str, entry: SystemIn) -> System:
    """Replace a system's entry; the slug may change, its children are replaced."""
    system = get_system(db, slug)
    _renamed(db, System, slug, entry.slug)
    reject("the system is invalid", system_problems(entry, Known.from_db(db)))
    return save_system(db, entry=entry, existing=system)[0]


def delete_system(db: Session, *, slug: str) -> None:
    system = get_system(db, slug)
    assignments = db.scalars(select(RoleAssignment).where(RoleAssignment.system_id == system.id))
    rules = db.scalars(select(AuthorityRule).where(AuthorityRule.system_id == system.id))
    uses = [f"role assignment {a.role} ({a.person.slug})" for a in assignments]
    uses += [f"authority rule for {r.action}" for r in rules]
    _still_used(f"system {slug!r}", uses)
    _delete(db, system, f"system {slug!r}")


# People ------------------------------------------------------------------------------------


def list_people(db: Session) -> list[Person]:
    return every(db, Person)


def get_person(db: Session, slug: str) -> Person:
    return get(db, Person, slug)


def person_out(person: Person) -> PersonOut:
    return PersonOut(
        **person_entry(person).model_dump(),
        created_at=person.created_at,
        updated_at=person.updated_at,
    )


def create_person(db: Session, *, entry: PersonIn) -> Person:
    _free(db, Person, entry.slug)
    reject("the person is invalid", person_problems(entry, Known.from_db(db)))
    return save_person(db, entry=entry, existing=None)[0]


def update_person(db: Session, *, slug: str, entry: PersonIn) -> Person:
    person = get_person(db, slug)
    _renamed(db, Person, slug, entry.slug)
    reject("the person is invalid", person_problems(entry, Known.from_db(db)))
    return save_person(db, entry=entry, existing=person)[0]


def delete_person(db: Session, *, slug: str) -> None:
    person = get_person(db, slug)
    owned = db.scalars(
        select(System.slug).where(System.owner_id == person.id).order_by(System.slug)
    )
    assignments = db.scalars(select(RoleAssignment).where(RoleAssignment.person_id == person.id))
    uses = [f"system {s!r} (owner)" for s in owned]
    uses += [
        f"role assignment {a.role} for {a.system.slug if a.system else 'the organisation'}"
        for a in assignments
    ]
    _still_used(f"person {slug!r}", uses)
    _delete(db, person, f"person {slug!r}")


# Teams -------------------------------------------------------------------------------------


def list_teams(db: Session) -> list[Team]:
    return every(db, Team)


def get_team(db: Session, slug: str) -> Team:
    return get(db, Team, slug)


def team_out(team: Team) -> TeamOut:
    return TeamOut(
        **team_entry(team).model_dump(), created_at=team.created_at, updated_at=team.updated_at
    )


def create_team(db: Session, *, entry: TeamIn) -> Team:
    _free(db, Team, entry.slug)
    return save_team(db, entry=entry, existing=None)[0]


def update_team(db: Session, *, slug: str, entry: TeamIn) -> Team:
    team = get_team(db, slug)
    _renamed(db, Team, slug, entry.slug)
    return save_team(db, entry=entry, existing=team)[0]


def delete_team(db: Session, *, slug: str) -> None:
    team = get_team(db, slug)
    _still_used(f"team {slug!r}", [f"person {p.slug!r}" for p in team.members])
    _delete(db, team, f"team {slug!r}")


# Vendors -----------------------------------------------------------------------------------


def list_vendors(db: Session) -> list[Vendor]:
    return every(db, Vendor)


def get_vendor(db: Session, slug: str) -> Vendor:
    return get(db, Vendor, slug)


def vendor_out(vendor: Vendor) -> VendorOut:
    return VendorOut(
        **vendor_entry(vendor).model_dump(),
        created_at=vendor.created_at,
        updated_at=vendor.updated_at,
    )


def create_vendor(db: Session, *, entry: VendorIn) -> Vendor:
    _free(db, Vendor, entry.slug)
    return save_vendor(db, entry=entry, existing=None)[0]


def update_vendor(db: Session, *, slug: str, entry: VendorIn) -> Vendor:
    vendor = get_vendor(db, slug)
    _renamed(db, Vendor, slug, entry.slug)
    return save_vendor(db, entry=entry, existing=vendor)[0]


def delete_vendor(db: Session, *, slug: str) -> None:
    vendor = get_vendor(db, slug)
    systems = db.scalars(
        select(System.slug)
        .join(system_vendors, system_vendors.c.system_id == System.id)
        .where(system_vendors.c.vendor_id == vendor.id)
        .order_by(System.slug)
    )
    _still_used(f"vendor {slug!r}", [f"system {s!r}" for s in systems])
    _delete(db, vendor, f"vendor {slug!r}")
