"""The people on an incident (participants, at most one active commander) and its tickets.

External references link the incident to the organisation's established process. Removing a
participant or a reference keeps the row and its history. Nothing here commits.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from firestop.access.models import User
from firestop.db import utcnow
from firestop.errors import FieldError, conflict, invalid, not_found
from firestop.incidents.models import ExternalRef, Participant, ParticipantRole
from firestop.incidents.records import locked, record_event, required
from firestop.incidents.schemas import ParticipantOut
from firestop.inventory.models import Person


def add_participant(
    db: Session,
    *,
    key: str,
    actor: str,
    role: ParticipantRole,
    username: str | None = None,
    person: str | None = None,
    display_name: str | None = None,
) -> Participant:
    """Add a Firestop user and/or inventory person in a role; one active commander at most."""
    if not username and not person:
        raise invalid(
            "name a Firestop user or an inventory person",
            [FieldError("username", "give username, person or both")],
        )
    user = db.scalar(select(User).where(User.username == username)) if username else None
    if username and user is None:
        raise invalid("unknown user", [FieldError("username", f"no user {username!r}")])
    found = db.scalar(select(Person).where(Person.slug == person)) if person else None
    if person and found is None:
        raise invalid("unknown person", [FieldError("person", f"no person {person!r}")])
    name = (display_name or "").strip() or (
        found.name if found else (user.display_name if user else "")
    )
    incident = locked(db, key)
    active = [p for p in incident.participants if p.active]
    if role == ParticipantRole.commander:
        current = next((p for p in active if p.role == role.value), None)
        if current is not None:
            raise conflict(
                f"{incident.key} already has a commander ({current.display_name}); "
                "remove them first"
            )
    same = [
        p
        for p in active
        if p.role == role.value
        and p.username == username
        and p.person_id == (found.id if found else None)
    ]
    if same:
        raise conflict(f"{name} already takes part as {role.value}")
    participant = Participant(
        incident=incident,
        username=username,
        person=found,
        display_name=name or username or person or "",
        role=role.value,
        added_by=actor,
    )
    db.add(participant)
    db.flush()
    record_event(
        db,
        incident,
        actor=actor,
        kind="participant.added",
        entity_type="participant",
        entity_id=participant.id,
        after=_participant_state(participant),
    )
    return participant


def remove_participant(
    db: Session, *, key: str, actor: str, participant_id: int, reason: str | None = None
) -> Participant:
    """Record that someone left the incident; the row and its history stay."""
    incident = locked(db, key)
    participant = next((p for p in incident.participants if p.id == participant_id), None)
    if participant is None:
        raise not_found(f"{incident.key} has no participant {participant_id}")
    if not participant.active:
        raise conflict(f"{participant.display_name} was already removed")
    before = _participant_state(participant)
    participant.removed_at = utcnow()
    participant.removed_by = actor
    participant.removal_reason = (reason or "").strip() or None
    record_event(
        db,
        incident,
        actor=actor,
        kind="participant.removed",
        entity_type="participant",
        entity_id=participant.id,
        before=before,
        after=_participant_state(participant),
        note=participant.removal_reason,
    )
    return participant


def _participant_state(p: Participant) -> dict[str, Any]:
    return {
        "role": p.role,
        "username": p.username,
        "person": p.person.slug if p.person else None,
        "display_name": p.display_name,
        "active": p.active,
    }


def add_external_ref(
    db: Session, *, key: str, actor: str, system: str, ticket: str, url: str | None = None
) -> ExternalRef:
    """Link the incident to its ticket in the organisation's established process."""
    system = required(system, "system")
    ticket = required(ticket, "ticket")
    url = (url or "").strip() or None
    if url is not None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise invalid("the URL is not valid", [FieldError("url", "use an http(s) URL")])
    incident = locked(db, key)
    for ref in incident.external_refs:
        if ref.removed_at is None and (ref.system, ref.ticket) == (system, ticket):
            raise conflict(f"{incident.key} already references {system} {ticket}")
    ref = ExternalRef(incident=incident, system=system, ticket=ticket, url=url, added_by=actor)
    db.add(ref)
    db.flush()
    record_event(
        db,
        incident,
        actor=actor,
        kind="external_ref.added",
        entity_type="external_ref",
        entity_id=ref.id,
        after={"system": system, "ticket": ticket, "url": url},
    )
    return ref


def remove_external_ref(db: Session, *, key: str, actor: str, ref_id: int) -> ExternalRef:
    incident = locked(db, key)
    ref = next((r for r in incident.external_refs if r.id == ref_id), None)
    if ref is None:
        raise not_found(f"{incident.key} has no external reference {ref_id}")
    if ref.removed_at is not None:
        raise conflict(f"{ref.system} {ref.ticket} was already removed")
    ref.removed_at = utcnow()
    ref.removed_by = actor
    record_event(
        db,
        incident,
        actor=actor,
        kind="external_ref.removed",
        entity_type="external_ref",
        entity_id=ref.id,
        before={"system": ref.system, "ticket": ref.ticket, "url": ref.url},
    )
    return ref


# --- views ----------------------------------------------------------------------------------


def participant_view(p: Participant) -> ParticipantOut:
    return ParticipantOut(
        id=p.id,
        role=ParticipantRole(p.role),
        username=p.username,
        person=p.person.slug if p.person else None,
        display_name=p.display_name,
        active=p.active,
        added_at=p.added_at,
        added_by=p.added_by,
        removed_at=p.removed_at,
        removed_by=p.removed_by,
        removal_reason=p.removal_reason,
    )
