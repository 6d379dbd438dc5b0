"""SQLite ingest writers take turns on a lock file instead of sleeping in SQLite's busy handler."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from firestop.db import make_engine, make_sessionmaker
from firestop.writers import _KEY, writer_turn

HOLDER = """
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)
fcntl.flock(fd, fcntl.LOCK_EX)
print("held", flush=True)
time.sleep(0.5)
open(sys.argv[2], "w").write("released")
fcntl.flock(fd, fcntl.LOCK_UN)
"""


def _factory(tmp_path: Path) -> sessionmaker[Session]:
    engine = make_engine(f"sqlite:///{tmp_path / 'w.db'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
    return make_sessionmaker(engine)


def test_a_second_writer_waits_until_the_first_commits(tmp_path: Path) -> None:
    factory = _factory(tmp_path)
    order: list[str] = []
    first = factory()
    writer_turn(first)
    first.execute(text("INSERT INTO t VALUES (1)"))
    waiting = threading.Event()

    def second() -> None:
        with factory() as session:
            waiting.set()
            writer_turn(session)
            order.append("second")
            session.execute(text("INSERT INTO t VALUES (2)"))
            session.commit()

    thread = threading.Thread(target=second)
    thread.start()
    waiting.wait()
    time.sleep(0.2)
    order.append("first")
    first.commit()
    thread.join(10)
    assert order == ["first", "second"]
    with factory() as session:
        assert session.scalar(text("SELECT count(*) FROM t")) == 2


def test_the_turn_ends_with_a_rollback_or_a_close(tmp_path: Path) -> None:
    factory = _factory(tmp_path)
    session = factory()
    writer_turn(session)
    assert _KEY in session.info
    session.rollback()
    assert _KEY not in session.info
    writer_turn(session)
    session.close()
    other = factory()
    writer_turn(other)  # would wait its whole patience if the turn had not been given back
    assert _KEY in other.info
    other.close()


def test_another_process_holding_the_turn_is_waited_for(tmp_path: Path) -> None:
    factory = _factory(tmp_path)
    marker = tmp_path / "released"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(tmp_path / "w.db") + ".writer-turn", str(marker)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with factory() as session:
            writer_turn(session)
            assert marker.exists()  # only once the other process let go
            assert _KEY in session.info
    finally:
        holder.wait(10)


def test_an_in_memory_database_needs_no_turn() -> None:
    factory = make_sessionmaker(make_engine("sqlite://"))
    with factory() as session:
        writer_turn(session)
        assert _KEY not in session.info
