"""What the stream detectors share: their state rows, locked per system, and batch helpers.

A stream detector reads all its ``DetectorState`` rows for a system once per batch, updates
them in memory and writes back the ones it changed, all inside the ingest transaction. Two
batches for the same system must not interleave, or one's update would overwrite the other's:
on SQLite the database write lock (``take_write_lock``) serialises them; on PostgreSQL a
transaction-scoped advisory lock per (detector, system) does, which, unlike ``FOR UPDATE`` on
the rows, also covers the first batch, when the rows do not exist yet. Anything else that
writes these rows must take the same lock (``lock_state``).

Statements, not arithmetic, are what a batch costs here (each is a round trip and a trip
through SQLAlchemy), so ``StateStore`` reads the state of every detector for the batch's
systems in one SELECT and writes it back in one UPDATE and at most one INSERT. A detector
called on its own (``load_state`` without a store) reads and writes just its own rows.
"""

from __future__ import annotations

import json
import logging
import zlib
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import bindparam, func, insert, select
from sqlalchemy.orm import Session

from firestop.db import table_of, take_write_lock
from firestop.detect.base import Observed, SystemConfig
from firestop.detect.models import DetectorState

log = logging.getLogger(__name__)

# How many interactions a stream finding names as examples.
MAX_EXAMPLES = 50
# Rate windows (volumes, error rates, tool calls per minute) follow arrival time; a record that
# started longer ago than this is a late or back-filled one and would fake a burst, so those
# windows leave it out. Drift and outcome counts do not depend on time and use every record.
LATE_AFTER = timedelta(hours=1)

_TABLE = table_of(DetectorState)
_UPDATE = (
    _TABLE.update()
    .where(_TABLE.c.id == bindparam("_id"))
    .values(state=bindparam("_state"), updated_at=bindparam("_at"))
)
# Built once: constructing a statement costs several times what running this one does.
_SELECT = (
    select(_TABLE.c.id, _TABLE.c.detector, _TABLE.c.system_id, _TABLE.c.key, _TABLE.c.state)
    .where(
        _TABLE.c.detector.in_(bindparam("detectors", expanding=True)),
        _TABLE.c.system_id.in_(bindparam("systems", expanding=True)),
    )
    # Redundant under the advisory locks, but it also holds off a writer that knows only the
    # usual row-lock discipline.
    .with_for_update()
)
_INSERT = insert(_TABLE)
_STORE = "firestop.detect.state_store"  # the open store's place in ``Session.info``

Loaded = dict[str, tuple[int, dict[str, Any]]]  # key -> (row id, state)


def _lock_key(detector: str) -> int:
    """A stable signed 32-bit number for the detector id (advisory locks take int4 pairs)."""
    return int.from_bytes(zlib.crc32(detector.encode()).to_bytes(4, "big"), "big", signed=True)


def lock_state(db: Session, pairs: Iterable[tuple[int, str]]) -> None:
    """Lock the state of (system id, detector) pairs until the transaction ends.

    The locks are taken in one statement, in (system, detector) order; every caller taking
    them in that order means two transactions can never wait on each other in a cycle.
    """
    take_write_lock(db)
    if db.get_bind().dialect.name != "postgresql":
        return
    ordered = sorted(set(pairs), key=lambda p: (p[0], _lock_key(p[1])))
    if ordered:
        db.execute(select(*(func.pg_advisory_xact_lock(_lock_key(d), s) for s, d in ordered)))


def _read(
    db: Session, detectors: Sequence[str], system_ids: Sequence[int]
) -> dict[tuple[str, int], Loaded]:
    loaded: dict[tuple[str, int], Loaded] = {(d, s): {} for d in detectors for s in system_ids}
    rows = db.execute(_SELECT, {"detectors": list(detectors), "systems": list(system_ids)})
    for row_id, detector, system_id, key, state in rows:
        loaded[(detector, system_id)][key] = (row_id, state if isinstance(state, dict) else {})
    return loaded


def _write(db: Session, staged: Sequence[StateRows], now: datetime) -> None:
    # Keyed, so that state staged twice for one row (two handles on the same detector and
    # system) becomes one write, the last, rather than a second insert of the same key.
    updates: dict[int, dict[str, Any]] = {}
    inserts: dict[tuple[str, int, str], dict[str, Any]] = {}
    for rows in staged:
        for key, state in rows.pending.items():
            known = rows.loaded.get(key)
            if known is not None:
                updates[known[0]] = {"_id": known[0], "_state": state, "_at": now}
            else:
                inserts[(rows.detector, rows.system_id, key)] = {
                    "detector": rows.detector,
                    "system_id": rows.system_id,
                    "key": key,
                    "state": state,
                    "updated_at": now,
                }
    if updates:
        db.execute(_UPDATE, list(updates.values()))
    if inserts:
        db.execute(_INSERT, list(inserts.values()))


# Types orjson would write in its own way are handed to ``default`` (there is none: it raises)
# instead, so that only what the standard library accepts gets past the fast check.
_STRICT = (
    orjson.OPT_PASSTHROUGH_DATETIME
    | orjson.OPT_PASSTHROUGH_DATACLASS
    | orjson.OPT_PASSTHROUGH_SUBCLASS
)


def check_json(state: Any) -> None:
    """Raise what ``json.dumps(state, allow_nan=False)`` raises, if anything.

    That check runs on every state written for every batch, and the standard library's encoder
    spends several times what orjson does on the same dicts. orjson writes NaN and infinity as
    ``null`` rather than refusing them, and refuses some things the standard library takes
    (integers beyond 64 bits, lone surrogates, keys that are not strings): so a state orjson
    refuses, or whose text holds a ``null`` at all (rare in state), gets the standard library's
    verdict. Without ``null`` in orjson's text there was no NaN or infinity; the types orjson
    writes and the standard library does not are passed through to ``default`` (``_STRICT``)
    and so refused too, except a UUID or a plain Enum, which no detector's state holds.
    """
    try:
        text = orjson.dumps(state, option=_STRICT)
    except orjson.JSONEncodeError:
        text = None
    if text is None or b"null" in text:
        json.dumps(state, allow_nan=False)


class StateRows:
    """One detector's state for one system: read once, changed with ``put``, written by
    ``save`` (at once, or with the rest of the batch when a ``StateStore`` is open)."""

    def __init__(
        self,
        db: Session,
        detector: str,
        system_id: int,
        loaded: Loaded,
        store: StateStore | None = None,
    ) -> None:
        self.db = db
        self.detector = detector
        self.system_id = system_id
        self.loaded = loaded
        self.pending: dict[str, dict[str, Any]] = {}
        self._store = store

    def __len__(self) -> int:
        return len(self.loaded.keys() | self.pending.keys())

    def __contains__(self, key: str) -> bool:
        return key in self.pending or key in self.loaded

    def names(self) -> list[str]:
        return list(self.loaded.keys() | self.pending.keys())

    def get(self, key: str) -> dict[str, Any] | None:
        """The state as stored (or as last ``put``); callers may change it and ``put`` it."""
        if key in self.pending:
            return self.pending[key]
        known = self.loaded.get(key)
        return None if known is None else known[1]

    def put(self, key: str, state: dict[str, Any]) -> None:
        self.pending[key] = state

    def save(self, now: datetime) -> None:
        if not self.pending:
            return
        if self._store is not None:
            self._store.stage(self)
            return
        _write(self.db, [self], now)
        if self.pending.keys() - self.loaded.keys():
            # New rows: learn their ids, so that a later save updates rather than inserts.
            self.loaded = _read(self.db, [self.detector], [self.system_id])[
                (self.detector, self.system_id)
            ]
        else:
            for key, state in self.pending.items():
                self.loaded[key] = (self.loaded[key][0], state)
        self.pending = {}


class StateStore:
    """The state of several detectors for a batch's systems: locked and read in one go,
    written in one go, and only for the detectors that finished without failing."""

    def __init__(self, db: Session, detectors: Sequence[str], system_ids: Sequence[int]) -> None:
        self.db = db
        lock_state(db, ((s, d) for d in detectors for s in system_ids))
        self.loaded = _read(db, detectors, system_ids)
        self._staged: list[StateRows] = []
        self._accepted: list[StateRows] = []

    def rows(self, detector: str, system_id: int) -> StateRows | None:
        loaded = self.loaded.get((detector, system_id))
        return None if loaded is None else StateRows(self.db, detector, system_id, loaded, self)

    def stage(self, rows: StateRows) -> None:
        self._staged.append(rows)

    def accept(self) -> None:
        """Keep what the detector that just ran staged. Its state must survive the trip to
        JSON (no NaN or infinity: PostgreSQL refuses them, and one bad value would fail every
        later batch); if it does not, it is dropped like a failure's."""
        staged, self._staged = self._staged, []
        for rows in staged:
            check_json(rows.pending)
        self._accepted += staged

    def discard(self) -> None:
        self._staged = []

    def write(self, now: datetime) -> None:
        _write(self.db, self._accepted, now)
        self._accepted = []

    def __enter__(self) -> StateStore:
        if _STORE in self.db.info:
            raise RuntimeError("a state store is already open on this session")
        self.db.info[_STORE] = self
        return self

    def __exit__(self, *exc: object) -> None:
        self.db.info.pop(_STORE, None)


def load_state(db: Session, detector: str, system_id: int) -> StateRows:
    """A detector's state for one system: from the open store, or locked and read now."""
    store = db.info.get(_STORE)
    if isinstance(store, StateStore):
        rows = store.rows(detector, system_id)
        if rows is not None:
            return rows
    lock_state(db, [(system_id, detector)])
    loaded = _read(db, [detector], [system_id])[(detector, system_id)]
    return StateRows(db, detector, system_id, loaded)


class Grouped(list[Observed]):
    """A batch that already knows its split by system, so that each of the detectors run over
    it (``streams.observe_all``) does not split it again."""

    groups: list[tuple[SystemConfig, Sequence[Observed]]]

    def __init__(self, batch: Sequence[Observed]) -> None:
        super().__init__(batch)
        self.groups = _split(self)


def _split(batch: Sequence[Observed]) -> list[tuple[SystemConfig, Sequence[Observed]]]:
    """The batch by system, in system id order: a fixed lock order across detectors and
    batches, so two batches spanning the same systems can never deadlock."""
    if not batch:
        return []
    # Most batches come from one system: one cheap pass proves it and no copy is made.
    first = batch[0].config
    if all(ob.config is first for ob in batch):
        return [(first, batch)]
    groups: dict[int, tuple[SystemConfig, list[Observed]]] = {}
    for ob in batch:
        entry = groups.get(ob.config.id)
        if entry is None:
            entry = groups[ob.config.id] = (ob.config, [])
        entry[1].append(ob)
    return [groups[system_id] for system_id in sorted(groups)]


def by_system(
    batch: Sequence[Observed], detector: str
) -> Iterator[tuple[SystemConfig, Sequence[Observed]]]:
    """The batch split by system (in system id order), leaving out the systems that switched
    the detector off."""
    groups = batch.groups if isinstance(batch, Grouped) else _split(batch)
    for config, items in groups:
        if config.enabled(detector):
            yield config, items


def late_before(now: datetime) -> datetime:
    """Records that started before this are late (see ``LATE_AFTER``)."""
    return now - LATE_AFTER


def setting_int(config: SystemConfig, detector: str, name: str, default: int, lo: int = 1) -> int:
    """An integer setting, falling back to the default (with a warning) when it is unusable;
    a typo in a system's settings must not stop detection."""
    value = config.setting(detector, name, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < lo:
        if value is not default:
            log.warning("%s setting %s of %s is unusable: %r", detector, name, config.slug, value)
        return default
    return int(value)


def setting_float(
    config: SystemConfig, detector: str, name: str, default: float, lo: float = 0.0
) -> float:
    value = config.setting(detector, name, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not value >= lo:
        if value is not default:
            log.warning("%s setting %s of %s is unusable: %r", detector, name, config.slug, value)
        return default
    return float(value)


def setting_optional_int(config: SystemConfig, detector: str, name: str) -> int | None:
    """An optional positive limit: absent or null means no limit."""
    value = config.setting(detector, name, None)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 1:
        log.warning("%s setting %s of %s is unusable: %r", detector, name, config.slug, value)
        return None
    return int(value)
