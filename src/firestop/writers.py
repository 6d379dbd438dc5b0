"""Taking turns to write a SQLite database, without SQLite's sleeping busy handler.

SQLite lets one connection write at a time. A second writer that finds the lock taken calls
the busy handler, which sleeps 1, 2, 5, 10 … up to 100 ms between tries, so with two server
processes ingesting, one of them often sleeps for tens of milliseconds after the other has
already committed, and the machine idles. Ingest therefore queues for its turn on a file lock
next to the database, polled every half millisecond, just before its first write, and gives
the turn back when its transaction ends (commit or rollback). The turn orders the ingest
writers among themselves; every other writer still meets SQLite's own lock as before, so the
turn only changes who waits how, never what is allowed.

PostgreSQL needs none of this: its row locks let batches write side by side.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.orm import Session, SessionTransaction

_KEY = "firestop.writer_turn"
_POLL = 0.0005
# As long as SQLite's own busy timeout (db.py): past it, write anyway and let SQLite decide.
_PATIENCE = 10.0


class _Turn:
    """The lock file of one database, for this process: one thread at a time holds it."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.threads = threading.Lock()
        self.fd = -1
        self.pid = 0

    def _file(self) -> int:
        # A descriptor opened before a fork is shared with the child, and a lock taken through
        # it would be held by both: each process opens its own.
        if self.fd < 0 or self.pid != os.getpid():
            self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            self.pid = os.getpid()
        return self.fd

    def take(self) -> bool:
        deadline = time.monotonic() + _PATIENCE
        if not self.threads.acquire(timeout=_PATIENCE):
            return False
        try:
            fd = self._file()
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    return True
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        break
                    time.sleep(_POLL)
        except OSError:
            pass  # no lock file (read-only directory): SQLite's own lock still protects
        self.threads.release()
        return False

    def give_back(self) -> None:
        try:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
        finally:
            self.threads.release()


_turns: dict[str, _Turn] = {}
_turns_lock = threading.Lock()


def _turn_for(path: str) -> _Turn:
    with _turns_lock:
        turn = _turns.get(path)
        if turn is None:
            turn = _turns[path] = _Turn(path)
        return turn


def writer_turn(db: Session) -> None:
    """Wait for this session's turn to write; it ends with the session's transaction.

    Does nothing on PostgreSQL, on an in-memory SQLite database, or when the session has its
    turn already.
    """
    if _KEY in db.info:
        return
    bind = db.get_bind()
    if bind.dialect.name != "sqlite":
        return
    engine = bind if isinstance(bind, Engine) else bind.engine
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    turn = _turn_for(os.path.abspath(database) + ".writer-turn")
    db.connection()  # begins the transaction whose end gives the turn back
    if turn.take():
        db.info[_KEY] = turn


@event.listens_for(Session, "after_transaction_end")
def _give_back(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        turn: Any = session.info.pop(_KEY, None)
        if turn is not None:
            turn.give_back()
