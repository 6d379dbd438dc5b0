"""Incidents: opening, facts (T1), harm (T2), severity, status, and the incident as shown.

Claims live in :mod:`firestop.incidents.claims`, participants and external references in
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
from firestop.errors import FieldError, conflict, invalid, not_found
from firestop.incidents import rules
from firestop.incidents.claims import claim_view, new_claim
from firestop.incidents.keys import format_key, next_number
from firestop.incidents.models import (
    Claim,
    ClaimKind,
    Continuing,
    Incident,
    IncidentStatus,
    IncidentSystem,
    Participant,
    ParticipantRole,
)
from firestop.incidents.people import participant_view
from firestop.incidents.records import locked, record_event, required
from firestop.incidents.schemas import (
    AffectedSystemOut,
    ExternalRefOut,
    HarmIn,
    HarmOut,
    IncidentDetail,
    IncidentPatch,
    IncidentSummary,
    LabelledOut,
    SeverityOut,
    SystemVersion,
)
from firestop.inventory.models import System
from firestop.policy.schemas import Policy, Sev
from firestop.policy.service import (
    SeverityAssessment,
    assess_severity,
    suggested_actions,
    validate_categories,
    validate_tags,
)

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
        _assess(db, policy, incident, dict(factors), actor=actor)
    for candidate in policy.taxonomy.cause_candidates:
        new_claim(
            db,
            incident,
            actor=actor,
            statement=f"{candidate.label} may be involved.",
            kind=ClaimKind.cause,
            cause_candidate=candidate.id,
        )
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


# --- severity -------------------------------------------------------------------------------


def set_severity_factors(
    db: Session,
    *,
    policy: Policy,
    key: str,
    actor: str,
    factors: Mapping[str, str | None],
    note: str | None = None,
) -> Incident:
    """Set (or, with ``None``, remove) factor levels and recompute the severity."""
    incident = locked(db, key)
    merged = dict(incident.severity_factors)
    for factor, level in factors.items():
        if level is None:
            merged.pop(factor, None)
        else:
            merged[factor] = level
    if merged != incident.severity_factors:
        _assess(db, policy, incident, merged, actor=actor, note=note)
    return incident


def _assess(
    db: Session,
    policy: Policy,
    incident: Incident,
    factors: dict[str, str],
    *,
    actor: str,
    note: str | None = None,
) -> None:
    """Recompute from ``factors`` and put the before/after levels and reasons on the timeline."""
    assessment = assess_severity(policy, factors) if factors else None
    before = _severity_state(incident)
    incident.severity_factors = factors
    incident.computed_severity = assessment.level.value if assessment else None
    incident.severity_assessment = assessment.model_dump(mode="json") if assessment else None
    record_event(
        db,
        incident,
        actor=actor,
        kind="severity.recomputed",
        before=before,
        after=_severity_state(incident),
        note=note,
    )


def _severity_state(incident: Incident) -> dict[str, Any]:
    assessment = incident.severity_assessment or {}
    return {
        "level": incident.computed_severity,
        "effective": incident.severity,
        "score": assessment.get("score"),
        "drivers": assessment.get("drivers", []),
        "explanation": assessment.get("explanation"),
        "factors": dict(incident.severity_factors),
        "policy_version": assessment.get("policy_version"),
    }


def override_severity(
    db: Session, *, key: str, actor: str, level: Sev | None, reason: str
) -> Incident:
    """Set the severity by hand, or clear the override (``level=None``); both need a reason."""
    reason = required(reason, "reason", "a written reason is required")
    incident = locked(db, key)
    if level is None and incident.severity_override is None:
        raise conflict(f"the severity of {incident.key} is not overridden")
    before = _override_state(incident)
    incident.severity_override = level.value if level else None
    incident.severity_override_reason = reason if level else None
    incident.severity_override_by = actor if level else None
    incident.severity_override_at = utcnow() if level else None
    record_event(
        db,
        incident,
        actor=actor,
        kind="severity.overridden" if level else "severity.override_cleared",
        before=before,
        after=_override_state(incident),
        note=reason,
    )
    return incident


def _override_state(incident: Incident) -> dict[str, Any]:
    return {
        "override": incident.severity_override,
        "reason": incident.severity_override_reason,
        "effective": incident.severity,
    }


# --- status ---------------------------------------------------------------------------------

_ENTERED_AT = {
    IncidentStatus.investigating: "acknowledged_at",
    IncidentStatus.contained: "contained_at",
    IncidentStatus.recovering: "recovering_at",
    IncidentStatus.monitoring: "monitoring_at",
    IncidentStatus.closed: "closed_at",
}


def allowed_transitions(incident: Incident) -> list[IncidentStatus]:
    return list(rules.INCIDENT_NEXT[IncidentStatus(incident.status)])


def change_status(
    db: Session,
    *,
    key: str,
    actor: str,
    status: IncidentStatus,
    reason: str | None = None,
    outcome: str | None = None,
) -> Incident:
    """Move the incident along its lifecycle; see :mod:`firestop.incidents.rules`."""
    incident = locked(db, key)
    current = IncidentStatus(incident.status)
    allowed = rules.INCIDENT_NEXT[current]
    if status not in allowed:
        options = ", ".join(allowed) if allowed else "none; a closed incident is final"
        raise conflict(
            f"{incident.key} cannot move from {current} to {status}; allowed next: {options}"
        )
    reason = (reason or "").strip() or None
    if rules.closes_from_triage(current, status):
        if outcome not in rules.CLOSING_OUTCOMES:
            raise invalid(
                "closing from triage records an outcome",
                [FieldError("outcome", f"use one of {', '.join(rules.CLOSING_OUTCOMES)}")],
            )
        if reason is None:
            raise invalid(
                "closing from triage needs a reason", [FieldError("reason", "a reason is required")]
            )
    elif outcome is not None:
        raise conflict(
            f"the outcome {outcome!r} can only be recorded when closing from triage; "
            f"{incident.key} is in {current}"
        )
    if (current, status) in rules.RECURRENCE and reason is None:
        raise invalid(
            "going back needs a reason",
            [FieldError("reason", "say what recurred")],
        )
    now = utcnow()
    incident.status = status.value
    stamp = _ENTERED_AT[status]
    if getattr(incident, stamp) is None:
        setattr(incident, stamp, now)
    if status == IncidentStatus.closed:
        incident.outcome = outcome
        incident.closure_reason = reason
    after: dict[str, Any] = {"status": status.value}
    if outcome is not None:
        after["outcome"] = outcome
    record_event(
        db,
        incident,
        actor=actor,
        kind="status.changed",
        before={"status": current.value},
        after=after,
        note=reason,
    )
    return incident


# --- views ----------------------------------------------------------------------------------


def _commander(participants: Iterable[Participant]) -> Participant | None:
    return next(
        (p for p in participants if p.active and p.role == ParticipantRole.commander.value), None
    )


def incident_summary(incident: Incident) -> IncidentSummary:
    commander = _commander(incident.participants)
    return IncidentSummary(
        key=incident.key,
        title=incident.title,
        status=IncidentStatus(incident.status),
        outcome=incident.outcome,
        severity=Sev(incident.severity) if incident.severity else None,
        severity_overridden=incident.severity_override is not None,
        categories=list(incident.categories),
        commander=commander.display_name if commander else None,
        detected_at=incident.detected_at,
        created_at=incident.created_at,
        updated_at=incident.updated_at,
    )


def incident_view(db: Session, *, policy: Policy, key: str) -> IncidentDetail:
    """Everything the incident page shows, in one shape for the API and the pages."""
    incident = db.scalar(
        select(Incident)
        .where(Incident.key == key.upper())
        .options(
            selectinload(Incident.systems).selectinload(IncidentSystem.system),
            selectinload(Incident.participants).selectinload(Participant.person),
            selectinload(Incident.external_refs),
            selectinload(Incident.claims).selectinload(Claim.evidence),
        )
        .execution_options(populate_existing=True)
    )
    if incident is None:
        raise not_found(f"no incident {key!r}")
    commander = _commander(incident.participants)
    labels = {c.id: c.label for c in policy.taxonomy.categories}
    return IncidentDetail.model_validate(
        {
            **{name: getattr(incident, name) for name in _DIRECT_FIELDS},
            "allowed_transitions": allowed_transitions(incident),
            "categories": [LabelledOut(id=c, label=labels.get(c, c)) for c in incident.categories],
            "systems": [
                AffectedSystemOut(
                    system=link.system.slug,
                    name=link.system.name,
                    criticality=link.system.criticality,
                    model_version=link.model_version,
                    application_version=link.application_version,
                )
                for link in incident.systems
            ],
            "harm": [
                HarmOut(
                    dimension=d.id,
                    label=d.label,
                    level=incident.harm.get(d.id, {}).get("level"),
                    note=incident.harm.get(d.id, {}).get("note", ""),
                )
                for d in policy.taxonomy.harm_dimensions
            ],
            "severity": _severity_view(policy, incident),
            "commander": participant_view(commander) if commander else None,
            "participants": [participant_view(p) for p in incident.participants],
            "external_refs": [ExternalRefOut.model_validate(r) for r in incident.external_refs],
            "claims": [claim_view(c) for c in incident.claims],
            "suggested_actions": suggested_actions(policy, list(incident.categories)),
        }
    )


_DIRECT_FIELDS = (
    "key",
    "title",
    "summary",
    "status",
    "outcome",
    "closure_reason",
    "tags",
    "what_happened",
    "began_at",
    "detected_at",
    "affected_people",
    "affected_people_basis",
    "affected_decisions",
    "affected_decisions_basis",
    "continuing",
    "acknowledged_at",
    "contained_at",
    "recovering_at",
    "monitoring_at",
    "closed_at",
    "created_at",
    "created_by",
    "updated_at",
)


def _severity_view(policy: Policy, incident: Incident) -> SeverityOut:
    effective = Sev(incident.severity) if incident.severity else None
    rule = policy.severity.routing[effective] if effective else None
    return SeverityOut(
        level=effective,
        computed=Sev(incident.computed_severity) if incident.computed_severity else None,
        override=Sev(incident.severity_override) if incident.severity_override else None,
        override_reason=incident.severity_override_reason,
        override_by=incident.severity_override_by,
        override_at=incident.severity_override_at,
        factors=dict(incident.severity_factors),
        assessment=(
            SeverityAssessment.model_validate(incident.severity_assessment)
            if incident.severity_assessment
            else None
        ),
        route=rule.route if rule else None,
        route_note=rule.note if rule else "",
    )


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
