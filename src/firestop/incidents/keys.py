"""Readable incident keys, ``AI-<year>-<NNNN>``, numbered per year without gaps or clashes.

The number comes from a per-year counter row raised with ``UPDATE … RETURNING`` inside the
caller's transaction. On PostgreSQL the update holds the row lock until commit, so concurrent
creators queue for it; on SQLite the update takes the database write lock. The first incident
of a year inserts the row; if two creators race to insert it, the loser retries the update.
The unique constraints on the key and on (year, number) back this up.
"""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from firestop.incidents.models import IncidentCounter


def format_key(year: int, number: int) -> str:
    return f"AI-{year}-{number:04d}"


def next_number(db: Session, year: int) -> int:
    """Reserve the next incident number of ``year`` in the current transaction."""
    for _ in range(3):
        raised = db.execute(
            update(IncidentCounter)
            .where(IncidentCounter.year == year)
            .values(last=IncidentCounter.last + 1)
            .returning(IncidentCounter.last)
        ).scalar_one_or_none()
        if raised is not None:
            return raised
        try:
            with db.begin_nested():
                db.add(IncidentCounter(year=year, last=1))
            return 1
        except IntegrityError:
            continue  # another transaction created the year's row first; raise it instead
    # Only reachable if the row keeps disappearing, which nothing in Firestop does.
    raise RuntimeError(f"could not reserve an incident number for {year}")
