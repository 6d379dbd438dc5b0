"""What every incident service shares: finding an incident by key, its timeline, required text.

Every change to an incident, its claims or its participants goes through :func:`record_event`,
which appends one timeline event in the same transaction. Mutations take the incident with
:func:`locked` first (``FOR UPDATE`` on PostgreSQL) so concurrent changes to one incident
queue instead of overwriting each other. Nothing here commits.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic_core import to_jsonable_python
from sqlalchemy import select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from firestop.db import table_of, take_write_lock, utcnow
from firestop.errors import FieldError, invalid, not_found
from firestop.incidents.models import Incident, TimelineEvent

# --- finding incidents ----------------------------------------------------------------------


def get_incident(db: Session, key: str) -> Incident:
    incident = db.scalar(select(Incident).where(Incident.key == key.upper()))
    if incident is None:
        raise not_found(f"no incident {key!r}")
    return incident


def locked(db: Session, key: str) -> Incident:
    """The incident, its row locked until the transaction ends, its state fresh."""
    take_write_lock(db)
    incident = db.scalar(
        select(Incident)
        .where(Incident.key == key.upper())
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if incident is None:
        raise not_found(f"no incident {key!r}")
    return incident


# --- the timeline -------------------------------------------------------------------------

_INCIDENTS = table_of(Incident)


def record_event(
    db: Session,
    incident: Incident,
    *,
    actor: str,
    kind: str,
    entity_type: str = "incident",
    entity_id: int | None = None,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    note: str | None = None,
) -> TimelineEvent:
    """Append one event to the incident's timeline; the only way events are written.

    The event is added to the session and written at its next flush (or commit), in the
    order events were recorded; nothing here flushes, because opening one incident records
    several events and a flush per event was most of its cost.
    """
    now = utcnow()
    # One atomic statement numbers the event and touches the incident, so two writers can
    # never take the same number. A Core statement: the ORM's bulk UPDATE would search the
    # session for incidents to refresh, and the one it would find is refreshed here.
    # The statement touches no pending object, so it need not flush the events before it.
    with db.no_autoflush:
        seq = db.execute(
            update(_INCIDENTS)
            .where(_INCIDENTS.c.id == incident.id)
            .values(timeline_seq=_INCIDENTS.c.timeline_seq + 1, updated_at=now)
            .returning(_INCIDENTS.c.timeline_seq)
        ).scalar_one()
    set_committed_value(incident, "timeline_seq", seq)
    set_committed_value(incident, "updated_at", now)
    event = TimelineEvent(
        incident_id=incident.id,
        seq=seq,
        at=now,
        actor=actor,
        kind=kind,
        entity_type=entity_type,
        entity_id=entity_id,
        before=_jsonable(before),
        after=_jsonable(after),
        note=note or None,
    )
    db.add(event)
    return event


def timeline(db: Session, key: str) -> list[TimelineEvent]:
    incident = get_incident(db, key)
    return list(
        db.scalars(
            select(TimelineEvent)
            .where(TimelineEvent.incident_id == incident.id)
            .order_by(TimelineEvent.seq)
        )
    )


def _jsonable(value: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if value is None:
        return None
    converted: dict[str, Any] = to_jsonable_python(dict(value))
    return converted


# --- checks ---------------------------------------------------------------------------------


def required(value: str, loc: str, message: str = "must not be blank") -> str:
    stripped = value.strip()
    if not stripped:
        raise invalid(f"{loc} is required", [FieldError(loc, message)])
    return stripped
