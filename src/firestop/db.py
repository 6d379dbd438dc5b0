"""Database engine, declarative base and sessions.

Services receive a :class:`Session` and never commit; the caller (a route, a CLI command)
owns the unit of work and commits once at the end.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, cast

import orjson
from sqlalchemy import JSON, DateTime, MetaData, Table, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on both SQLite (which drops tzinfo) and PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON, list[Any]: JSON}


def table_of(model: type[Base]) -> Table:
    """A mapped class's table, for Core statements: bulk inserts through the ORM cost several
    times more per row (unit-of-work bookkeeping) for no benefit when nothing is loaded back."""
    return cast(Table, model.__table__)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    # 8 KiB pages instead of 4: an interaction row is ~2.2 KB of JSON, so a 4 KiB page holds
    # one and wastes almost half of itself, and every byte is written twice (to the WAL at
    # commit, to the database at checkpoint). Three rows fit in 8 KiB: a third fewer bytes
    # written (commits measured 20–40 % cheaper). It only takes effect on a new, empty
    # database (it must come before WAL mode is set); existing databases keep their page size.
    cur.execute("PRAGMA page_size=8192")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()


def json_bytes(value: Any) -> bytes:
    """A JSON column's value as stored, UTF-8 encoded: what :func:`json_text` returns, before
    decoding. The ledger's direct inserts (``ledger.service.store``) give SQLite these bytes.

    orjson: the ledger writes a JSON document or two per interaction at high rates. It refuses
    integers beyond 64 bits and lone surrogates, which the standard library writes as they are
    (its output is ASCII: ``ensure_ascii`` escapes everything else).
    """
    try:
        return orjson.dumps(value)
    except orjson.JSONEncodeError:
        return json.dumps(value, default=str).encode()


def json_text(value: Any) -> str:
    """A JSON column's value as stored: the engine's ``json_serializer``."""
    return json_bytes(value).decode()


# SQLAlchemy's SQLite DATETIME storage format (sqlalchemy.dialects.sqlite.DATETIME).
_SQLITE_TIME = "%04d-%02d-%02d %02d:%02d:%02d.%06d"


def sqlite_time_text(value: datetime) -> str:
    """A :class:`UTCDateTime` value exactly as SQLite stores it through SQLAlchemy.

    SQLAlchemy's SQLite ``DATETIME`` writes naive ``YYYY-MM-DD HH:MM:SS.ffffff`` text, which is
    why :class:`UTCDateTime` converts to UTC first. Stored times are compared as text, so a row
    written without SQLAlchemy (``ledger.service.store``) must use exactly this form: the same
    format string, applied to the same UTC time. ``%`` formatting is also the cheapest way to
    get it (``isoformat`` costs a quarter more), and subtracting the offset, when there is one,
    is cheaper than ``astimezone`` (most times arrive in UTC already). tests/ledger/
    test_store_rows.py holds the two equal.
    """
    offset = value.utcoffset()
    if offset is None:
        raise ValueError("naive datetime given to a UTC column")
    v = value - offset if offset else value
    return _SQLITE_TIME % (v.year, v.month, v.day, v.hour, v.minute, v.second, v.microsecond)


def make_engine(url: str) -> Engine:
    json_options: dict[str, Any] = {
        "json_serializer": json_text,
        "json_deserializer": orjson.loads,
    }
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False}, **json_options)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10, **json_options)


def take_write_lock(db: Session) -> None:
    """Make a following ``SELECT … FOR UPDATE`` mean what it says on SQLite too.

    SQLite ignores ``FOR UPDATE``, and its Python driver opens a transaction only at the first
    write, so two requests could both read a row as "still open" and both act on it. Beginning
    an IMMEDIATE transaction takes the database's single write lock before the read: a second
    writer waits (up to the busy timeout) and then reads the first one's committed result.
    PostgreSQL needs nothing here; its row locks do the job.
    """
    connection = db.connection()
    if connection.dialect.name != "sqlite":
        return
    raw = connection.connection.driver_connection
    if raw is not None and not raw.in_transaction:
        raw.execute("BEGIN IMMEDIATE")


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def unit_of_work(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session that commits when the block ends normally and rolls back otherwise."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
