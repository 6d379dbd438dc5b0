"""The timeline is append-only, enforced twice: in the ORM and by database triggers.

The ORM guard stops application code from changing or deleting an event by accident; the
triggers stop everything else (raw SQL, a console, another program). ``create_all`` installs
the triggers with the table; migrations must execute :data:`TIMELINE_APPEND_ONLY_DDL` for the
dialect after creating ``timeline_events`` (and :data:`TIMELINE_APPEND_ONLY_DROP_DDL` before
dropping it). TRUNCATE is not blocked: it is an administrator's tool, not an edit.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Delete, Update, event
from sqlalchemy.engine import Connection
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction

TIMELINE_TABLE = "timeline_events"
_MESSAGE = "timeline_events is append-only"

TIMELINE_APPEND_ONLY_DDL: dict[str, tuple[str, ...]] = {
    "sqlite": (
        "CREATE TRIGGER timeline_events_no_update BEFORE UPDATE ON timeline_events "
        f"BEGIN SELECT RAISE(ABORT, '{_MESSAGE}'); END",
        "CREATE TRIGGER timeline_events_no_delete BEFORE DELETE ON timeline_events "
        f"BEGIN SELECT RAISE(ABORT, '{_MESSAGE}'); END",
    ),
    "postgresql": (
        "CREATE OR REPLACE FUNCTION firestop_timeline_append_only() RETURNS trigger "
        f"LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION '{_MESSAGE}'; END $$",
        "CREATE TRIGGER timeline_events_append_only BEFORE UPDATE OR DELETE ON timeline_events "
        "FOR EACH ROW EXECUTE FUNCTION firestop_timeline_append_only()",
    ),
}

TIMELINE_APPEND_ONLY_DROP_DDL: dict[str, tuple[str, ...]] = {
    "sqlite": (
        "DROP TRIGGER IF EXISTS timeline_events_no_update",
        "DROP TRIGGER IF EXISTS timeline_events_no_delete",
    ),
    "postgresql": (
        "DROP TRIGGER IF EXISTS timeline_events_append_only ON timeline_events",
        "DROP FUNCTION IF EXISTS firestop_timeline_append_only()",
    ),
}


class AppendOnlyError(RuntimeError):
    """Raised when code tries to change or delete a timeline event."""


def _reject_changes(model: type[Any]) -> Any:
    def before_flush(session: Session, _ctx: UOWTransaction, _instances: Any) -> None:
        if any(isinstance(obj, model) for obj in session.deleted):
            raise AppendOnlyError(f"{_MESSAGE}: an event cannot be deleted")
        changed = [
            obj
            for obj in session.dirty
            if isinstance(obj, model) and session.is_modified(obj, include_collections=False)
        ]
        if changed:
            raise AppendOnlyError(f"{_MESSAGE}: an event cannot be changed")

    return before_flush


def _reject_bulk(orm_execute_state: ORMExecuteState) -> None:
    statement = orm_execute_state.statement
    if isinstance(statement, Update | Delete) and getattr(statement.table, "name", None) == (
        TIMELINE_TABLE
    ):
        raise AppendOnlyError(f"{_MESSAGE}: bulk UPDATE or DELETE is not allowed")


def install_append_only_guards(model: type[Any]) -> None:
    """Guard ``model`` (the timeline event class) in every session and in ``create_all``."""
    event.listen(Session, "before_flush", _reject_changes(model))
    event.listen(Session, "do_orm_execute", _reject_bulk)
    event.listen(model.__table__, "after_create", _create_triggers)


def _create_triggers(_table: Any, connection: Connection, **_kw: Any) -> None:
    for statement in TIMELINE_APPEND_ONLY_DDL.get(connection.dialect.name, ()):
        connection.exec_driver_sql(statement)
