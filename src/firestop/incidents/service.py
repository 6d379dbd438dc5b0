"""Incidents: finding them, opening them, and editing their facts (T1) and harm (T2).

Severity lives in :mod:`firestop.incidents.severity`, status changes in
:mod:`firestop.incidents.status`, the incident as shown in :mod:`firestop.incidents.views`,
claims in :mod:`firestop.incidents.claims`, participants and external references in
:mod:`firestop.incidents.people`; all of them write through
:func:`firestop.incidents.records.record_event` and lock the incident with
:func:`firestop.incidents.records.locked` before changing it. Functions take a session and
keyword arguments and never commit.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from enum import Enum
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from firestop.db import utcnow
from firestop.errors import FieldError, invalid
from firestop.incidents.claims import new_claims
from firestop.incidents.keys import format_key, next_number
from firestop.incidents.models import (
    ClaimKind,
    Continuing,
    Incident,
    IncidentStatus,
    IncidentSystem,
)
from firestop.incidents.records import locked, record_event, required
from firestop.incidents.schemas import HarmIn, IncidentPatch, SystemVersion
from firestop.incidents.severity import apply_factors
from firestop.inventory.models import System
from firestop.policy.schemas import Policy, Sev
from firestop.policy.service import validate_categories, validate_tags

# --- finding incidents ----------------------------------------------------------------------


def list_incidents(
    db: Session,
    *,
    open_only: bool = False,
    status: IncidentStatus | None = None,
    severity: Sev | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[Incident]:
    query = select(Incident).options(selectinload(Incident.participants))
    if open_only:
        query = query.where(Incident.status != IncidentStatus.closed.value)
    if status is not None:
        query = query.where(Incident.status == status.value)
    if severity is not None:
        effective = func.coalesce(Incident.severity_override, Incident.computed_severity)
        query = query.where(effective == severity.value)
    query = query.order_by(Incident.created_at.desc(), Incident.id.desc())
    return list(db.scalars(query.limit(limit).offset(offset)))


# --- opening and editing --------------------------------------------------------------------


def create_incident(
    db: Session,
    *,
    policy: Policy,
    actor: str,
    title: str,
    categories: Sequence[str],
    summary: str = "",
    tags: Sequence[str] | None = None,
    what_happened: str = "",
    began_at: datetime | None = None,
    detected_at: datetime | None = None,
    continuing: Continuing = Continuing.unknown,
    systems: Sequence[SystemVersion] = (),
    factors: Mapping[str, str] | None = None,
) -> Incident:
    """Open an incident in triage. Cause candidates start as hypotheses (T3).

    ``tags`` default to the categories' default tags; ``detected_at`` defaults to now.
    """
    title = required(title, "title")
    category_list = _unique(categories)
    validate_categories(policy, category_list)
    tag_list = _default_tags(policy, category_list) if tags is None else _unique(tags)
    validate_tags(policy, tag_list)
    now = utcnow()
    detected_at = detected_at or now
    _check_times(began_at, detected_at)
    number = next_number(db, now.year)
    incident = Incident(
        key=format_key(now.year, number),
        year=now.year,
        number=number,
        title=title,
        summary=summary,
        categories=category_list,
        tags=tag_list,
        what_happened=what_happened,
        began_at=began_at,
        detected_at=detected_at,
        continuing=continuing.value,
        created_at=now,
        created_by=actor,
        updated_at=now,
    )
    incident.systems = [
        IncidentSystem(
            system=system,
            position=position,
            model_version=item.model_version,
            application_version=item.application_version,
        )
        for position, (item, system) in enumerate(
            zip(systems, _resolve_systems(db, systems), strict=True)
        )
    ]
    db.add(incident)
    db.flush()
    record_event(db, incident, actor=actor, kind="incident.created", after=_snapshot(incident))
    if factors:
        apply_factors(db, policy, incident, dict(factors), actor=actor)
    hypotheses = [
        (f"{candidate.label} may be involved.", ClaimKind.cause, candidate.id)
        for candidate in policy.taxonomy.cause_candidates
    ]
    new_claims(db, incident, actor=actor, claims=hypotheses)
    return incident


# Fields a PATCH may change, in the order their events are written.
_PATCHABLE = (
    "title",
    "summary",
    "categories",
    "tags",
    "what_happened",
    "began_at",
    "detected_at",
    "affected_people",
    "affected_people_basis",
    "affected_decisions",
    "affected_decisions_basis",
    "continuing",
)
_NOT_NULL = frozenset({"title", "summary", "categories", "tags", "what_happened", "continuing"})


def update_incident(
    db: Session, *, policy: Policy, key: str, actor: str, patch: IncidentPatch
) -> Incident:
    """Change the fields present in ``patch``; one ``field.changed`` event per changed field."""
    incident = locked(db, key)
    sent = patch.model_fields_set
    errors = [
        FieldError(name, "may not be null")
        for name in sorted(_NOT_NULL & sent)
        if getattr(patch, name) is None
    ]
    if errors:
        raise invalid("some fields cannot be cleared", errors)
    new = {name: _stored(getattr(patch, name)) for name in _PATCHABLE if name in sent}
    if "title" in new:
        new["title"] = required(new["title"], "title")
    if "categories" in new:
        new["categories"] = _unique(new["categories"])
        validate_categories(policy, new["categories"])
    if "tags" in new:
        new["tags"] = _unique(new["tags"])
        validate_tags(policy, new["tags"])
    merged = {name: new.get(name, getattr(incident, name)) for name in _PATCHABLE}
    for count in ("affected_people", "affected_decisions"):
        basis = f"{count}_basis"
        if merged[count] is None:
            if basis in new and new[basis] is not None:
                raise invalid(f"{basis} needs a count", [FieldError(basis, f"set {count} as well")])
            new[basis] = merged[basis] = None  # a cleared count has no basis
        elif merged[basis] is None:
            new[basis] = merged[basis] = "estimate"
    _check_times(merged["began_at"], merged["detected_at"])

    for name in _PATCHABLE:
        if name in new and new[name] != getattr(incident, name):
            before = getattr(incident, name)
            setattr(incident, name, new[name])
            record_event(
                db,
                incident,
                actor=actor,
                kind="field.changed",
                before={name: before},
                after={name: new[name]},
            )
    if patch.systems is not None:
        _replace_systems(db, incident, patch.systems, actor=actor)
    return incident


def _replace_systems(
    db: Session, incident: Incident, wanted: Sequence[SystemVersion], *, actor: str
) -> None:
    before = _systems_state(incident)
    resolved = _resolve_systems(db, wanted)
    current = {link.system_id: link for link in incident.systems}
    kept: list[IncidentSystem] = []
    for position, (item, system) in enumerate(zip(wanted, resolved, strict=True)):
        # Links for systems that stay are updated in place: the unique (incident, system)
        # constraint would trip over a delete and re-insert within one flush.
        link = current.get(system.id) or IncidentSystem(system=system)
        link.position = position
        link.model_version = item.model_version
        link.application_version = item.application_version
        kept.append(link)
    incident.systems = kept
    db.flush()
    after = _systems_state(incident)
    if after != before:
        record_event(
            db,
            incident,
            actor=actor,
            kind="field.changed",
            before={"systems": before},
            after={"systems": after},
        )


def _resolve_systems(db: Session, wanted: Sequence[SystemVersion]) -> list[System]:
    slugs = [item.system for item in wanted]
    found = {s.slug: s for s in db.scalars(select(System).where(System.slug.in_(slugs)))}
    errors = [
        FieldError(f"systems[{i}].system", f"no system {slug!r} in the inventory")
        for i, slug in enumerate(slugs)
        if slug not in found
    ]
    errors += [
        FieldError(f"systems[{i}].system", f"system {slug!r} is listed twice")
        for i, slug in enumerate(slugs)
        if slug in slugs[:i]
    ]
    if errors:
        raise invalid("the affected systems are not valid", errors)
    return [found[slug] for slug in slugs]


def _systems_state(incident: Incident) -> list[dict[str, str]]:
    return [
        {
            "system": link.system.slug,
            "model_version": link.model_version,
            "application_version": link.application_version,
        }
        for link in incident.systems
    ]


def _snapshot(incident: Incident) -> dict[str, Any]:
    return {
        "key": incident.key,
        "title": incident.title,
        "summary": incident.summary,
        "status": incident.status,
        "categories": incident.categories,
        "tags": incident.tags,
        "what_happened": incident.what_happened,
        "began_at": incident.began_at,
        "detected_at": incident.detected_at,
        "continuing": incident.continuing,
        "systems": _systems_state(incident),
    }


def _check_times(began_at: datetime | None, detected_at: datetime | None) -> None:
    if began_at is not None and detected_at is not None and began_at > detected_at:
        raise invalid(
            "the incident cannot begin after it was detected",
            [FieldError("began_at", "must not be later than detected_at")],
        )


# --- harm (T2) ------------------------------------------------------------------------------


def set_harm(
    db: Session, *, policy: Policy, key: str, actor: str, harm: Mapping[str, HarmIn]
) -> Incident:
    """Replace the harm assessment; dimensions left out become unassessed."""
    dimensions = {d.id for d in policy.taxonomy.harm_dimensions}
    levels = policy.taxonomy.harm_levels
    errors = [
        FieldError(
            f"dimensions.{dim}", f"unknown harm dimension; known: {', '.join(sorted(dimensions))}"
        )
        for dim in harm
        if dim not in dimensions
    ]
    errors += [
        FieldError(
            f"dimensions.{dim}.level",
            f"unknown level {entry.level!r}; use one of {', '.join(levels)}",
        )
        for dim, entry in harm.items()
        if entry.level not in levels
    ]
    if errors:
        raise invalid("the harm assessment is not valid", errors)
    incident = locked(db, key)
    new = {dim: {"level": e.level, "note": e.note} for dim, e in harm.items()}
    old = dict(incident.harm)
    changed = sorted(d for d in set(old) | set(new) if old.get(d) != new.get(d))
    if changed:
        incident.harm = new
        record_event(
            db,
            incident,
            actor=actor,
            kind="harm.assessed",
            before={d: old.get(d) for d in changed},
            after={d: new.get(d) for d in changed},
        )
    return incident


# --- small helpers --------------------------------------------------------------------------


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))


def _default_tags(policy: Policy, categories: Sequence[str]) -> list[str]:
    return _unique(
        tag for c in categories if (cat := policy.category(c)) for tag in cat.default_tags
    )


def _stored(value: Any) -> Any:
    """The form in which a patched value is kept on the row: enum values, UTC times."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    return value
