"""Importing an inventory file: Firestop YAML (or JSON) or a CycloneDX ML-BOM.

An import is all or nothing: every entry and every reference is checked before anything is
written, and a file with any problem is rejected with all of them, each naming its place.
Entries are matched by slug (assignments and rules by what they are about), so importing the
same file twice leaves the second import with nothing to create.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import TypeVar

from pydantic import ValidationError
from sqlalchemy.orm import Session

from firestop.errors import FieldError, invalid, validation_errors
from firestop.inventory.authority import (
    assignment_problems,
    find_assignment,
    find_rule,
    rule_problems,
    save_assignment,
    save_rule,
)
from firestop.inventory.cyclonedx import Bom, BomSystem, translate
from firestop.inventory.entries import (
    Known,
    Outcome,
    Problem,
    every,
    find,
    person_problems,
    save_person,
    save_system,
    save_team,
    save_vendor,
    system_entry,
    system_problems,
)
from firestop.inventory.formats import Parsed, parse, validate_entry
from firestop.inventory.models import Criticality, Person, System, Team, Vendor
from firestop.inventory.schemas import (
    SECTIONS,
    AssignmentIn,
    AuthorityRuleIn,
    Entry,
    ImportResult,
    KindCounts,
    PersonIn,
    SystemIn,
    TeamIn,
    VendorIn,
)
from firestop.policy.schemas import Policy

E = TypeVar("E", bound=Entry)
T = TypeVar("T")
# What a system first seen in a BOM is given until someone reviews it.
BOM_CRITICALITY = Criticality.medium


@dataclass
class _Sections:
    """A file's valid entries, each with its index in its section (for error places)."""

    teams: list[tuple[int, TeamIn]] = field(default_factory=list)
    people: list[tuple[int, PersonIn]] = field(default_factory=list)
    vendors: list[tuple[int, VendorIn]] = field(default_factory=list)
    systems: list[tuple[int, SystemIn]] = field(default_factory=list)
    assignments: list[tuple[int, AssignmentIn]] = field(default_factory=list)
    authority: list[tuple[int, AuthorityRuleIn]] = field(default_factory=list)


def import_document(
    db: Session,
    *,
    content: bytes,
    filename: str | None,
    content_type: str | None,
    policy: Policy,
) -> ImportResult:
    """Upsert everything a file describes, or raise with every problem and write nothing."""
    parsed = parse(content, filename=filename, content_type=content_type)
    if parsed.data is None:
        raise invalid("the file is empty", [FieldError("(file)", "no content")])
    if not isinstance(parsed.data, dict):
        raise invalid(
            "the file is not an inventory",
            [
                parsed.error(
                    (),
                    "expected a mapping with the sections "
                    + ", ".join(SECTIONS)
                    + ", or a CycloneDX BOM",
                )
            ],
        )
    data = parsed.data
    if parsed.declared_cyclonedx or "bomFormat" in data or "specVersion" in data:
        try:
            bom = translate(parsed)
        except RecursionError as exc:
            raise invalid(
                "the BOM is nested too deeply", [FieldError("components", "nested too deeply")]
            ) from exc
        return _import_bom(db, bom)
    return _import_inventory(db, parsed, policy)


def _count(counts: KindCounts, outcome: Outcome) -> None:
    setattr(counts, outcome, getattr(counts, outcome) + 1)


# Firestop inventory files ------------------------------------------------------------------


def _section(
    parsed: Parsed, name: str, model: type[E], errors: list[FieldError]
) -> list[tuple[int, E]]:
    items = parsed.data.get(name)
    if items is None:
        return []
    if not isinstance(items, list):
        errors.append(parsed.error((name,), "expected a list"))
        return []
    valid = []
    for i, item in enumerate(items):
        entry = validate_entry(model, item, parsed, (name, i), errors)
        if entry is not None:
            valid.append((i, entry))
    return valid


def _read(parsed: Parsed, errors: list[FieldError]) -> _Sections:
    data = parsed.data
    for key in data:
        if key != "version" and key not in SECTIONS:
            allowed = ", ".join(["version", *SECTIONS])
            errors.append(parsed.error((str(key),), f"unknown section; allowed: {allowed}"))
    version = data.get("version", 1)
    if type(version) is not int or version != 1:
        errors.append(parsed.error(("version",), "this is format version 1; use version: 1"))
    return _Sections(
        teams=_section(parsed, "teams", TeamIn, errors),
        people=_section(parsed, "people", PersonIn, errors),
        vendors=_section(parsed, "vendors", VendorIn, errors),
        systems=_section(parsed, "systems", SystemIn, errors),
        assignments=_section(parsed, "assignments", AssignmentIn, errors),
        authority=_section(parsed, "authority", AuthorityRuleIn, errors),
    )


def _raw_slugs(parsed: Parsed, name: str) -> list[tuple[int, str]]:
    """The slugs a section gives, read before validation: a repeated slug is reported even
    when one of the entries has other problems."""
    items = parsed.data.get(name)
    return [
        (i, item["slug"].strip())
        for i, item in enumerate(items if isinstance(items, list) else [])
        if isinstance(item, dict) and isinstance(item.get("slug"), str)
    ]


def _once(
    parsed: Parsed,
    name: str,
    entries: list[tuple[int, T]],
    key: Callable[[T], Hashable],
    errors: list[FieldError],
    *,
    field_name: str | None = None,
) -> None:
    """Each slug (or assignment, or rule scope) may appear once in a section."""
    first: dict[Hashable, int] = {}
    for i, entry in entries:
        k = key(entry)
        if k in first:
            place = (name, i, field_name) if field_name else (name, i)
            errors.append(parsed.error(place, f"repeats {name}[{first[k]}]"))
        else:
            first[k] = i


def _known(db: Session, parsed: Parsed) -> Known:
    """Stored slugs plus the file's own, including those of entries with other problems, so a
    typo in one entry does not also make every reference to it an error."""
    known = Known.from_db(db)
    known.people.update(slug for _, slug in _raw_slugs(parsed, "people"))
    known.teams.update(slug for _, slug in _raw_slugs(parsed, "teams"))
    known.vendors.update(slug for _, slug in _raw_slugs(parsed, "vendors"))
    known.systems.update(slug for _, slug in _raw_slugs(parsed, "systems"))
    return known


def _placed(parsed: Parsed, name: str, i: int, problems: list[Problem]) -> list[FieldError]:
    return [parsed.error((name, i, *place), msg) for place, msg in problems]


def _import_inventory(db: Session, parsed: Parsed, policy: Policy) -> ImportResult:
    errors: list[FieldError] = []
    doc = _read(parsed, errors)
    for name in ("teams", "people", "vendors", "systems"):
        _once(parsed, name, _raw_slugs(parsed, name), lambda slug: slug, errors, field_name="slug")
    _once(parsed, "assignments", doc.assignments, lambda e: (e.system, e.role, e.person), errors)
    _once(parsed, "authority", doc.authority, lambda e: (e.action, e.system, e.criticality), errors)
    known = _known(db, parsed)
    for i, person in doc.people:
        errors += _placed(parsed, "people", i, person_problems(person, known))
    for i, system in doc.systems:
        errors += _placed(parsed, "systems", i, system_problems(system, known))
    for i, assignment in doc.assignments:
        errors += _placed(parsed, "assignments", i, assignment_problems(assignment, known))
    for i, rule in doc.authority:
        errors += _placed(parsed, "authority", i, rule_problems(rule, known, policy))
    if errors:
        raise invalid(f"the file has {len(errors)} error(s); nothing was imported", errors)

    result = ImportResult(format="firestop")
    for _, team in doc.teams:
        _count(result.teams, save_team(db, entry=team, existing=find(db, Team, team.slug))[1])
    for _, person in doc.people:
        existing_person = find(db, Person, person.slug)
        _count(result.people, save_person(db, entry=person, existing=existing_person)[1])
    for _, vendor in doc.vendors:
        existing_vendor = find(db, Vendor, vendor.slug)
        _count(result.vendors, save_vendor(db, entry=vendor, existing=existing_vendor)[1])
    for _, system in doc.systems:
        existing_system = find(db, System, system.slug)
        _count(result.systems, save_system(db, entry=system, existing=existing_system)[1])
    db.flush()
    for _, assignment in doc.assignments:
        found = find_assignment(db, assignment)
        _count(result.assignments, save_assignment(db, entry=assignment, existing=found)[1])
    for _, rule in doc.authority:
        _count(result.authority, save_rule(db, entry=rule, existing=find_rule(db, rule))[1])
    db.flush()
    return result


# CycloneDX ---------------------------------------------------------------------------------


def _bom_match(db: Session, described: BomSystem) -> System | None:
    """The stored system a BOM describes: by package URL when it has one, else by slug."""
    if described.purl is not None:
        for system in every(db, System):
            if system.purl == described.purl:
                return system
    return find(db, System, described.slug)


def _bom_entry(described: BomSystem, existing: System | None) -> SystemIn:
    """The system as the BOM leaves it: models and data sources from the BOM, the rest kept.

    Whether a model is approved is an organisation's decision the BOM cannot make, so a model
    already on record keeps its approval; a data source keeps its classification when the BOM
    gives none.
    """
    if existing is None:
        return SystemIn(
            slug=described.slug,
            name=described.name,
            description=described.description,
            criticality=BOM_CRITICALITY,
            models=described.models,
            data_sources=described.data_sources,
            bom_ref=described.bom_ref,
            purl=described.purl,
        )
    current = system_entry(existing)
    models_before = {(m.name, m.version): m for m in current.models}
    models = []
    for model in described.models:
        before = models_before.get((model.name, model.version))
        if before is not None:
            model = model.model_copy(
                update={"approved": before.approved, "provider": model.provider or before.provider}
            )
        models.append(model)
    sources_before = {d.name: d for d in current.data_sources}
    sources = []
    for source in described.data_sources:
        before_source = sources_before.get(source.name)
        if before_source is not None and source.name in described.unclassified:
            source = source.model_copy(update={"classification": before_source.classification})
        sources.append(source)
    return SystemIn.model_validate(
        {
            **current.model_dump(),
            "description": current.description or described.description,
            "models": models,
            "data_sources": sources,
            "bom_ref": described.bom_ref or current.bom_ref,
            "purl": described.purl or current.purl,
        }
    )


def _import_bom(db: Session, bom: Bom) -> ImportResult:
    result = ImportResult(format="cyclonedx", spec_version=bom.spec_version)
    result.warnings += bom.warnings
    planned: list[tuple[SystemIn, System | None]] = []
    targets: set[int] = set()
    errors: list[FieldError] = []
    for described in bom.systems:
        existing = _bom_match(db, described)
        if existing is not None:
            if existing.id in targets:
                raise invalid(
                    "the BOM describes one stored system twice; nothing was imported",
                    [FieldError("(top level)", f"more than one part maps to {existing.slug!r}")],
                )
            targets.add(existing.id)
        else:
            result.warnings.append(
                f"system {described.slug!r} is new: it was given criticality "
                f"{BOM_CRITICALITY.value!r} and no owner until someone reviews it"
            )
        try:
            planned.append((_bom_entry(described, existing), existing))
        except ValidationError as exc:
            # Fields the BOM carries beyond what the inventory accepts (a 30,000-character
            # description, hundreds of models): name them rather than fail the request.
            errors += validation_errors(exc, prefix=f"system {described.slug!r}")
    if errors:
        raise invalid("the BOM cannot be stored as inventory; nothing was imported", errors)
    for entry, existing in planned:
        _count(result.systems, save_system(db, entry=entry, existing=existing)[1])
    db.flush()
    return result
