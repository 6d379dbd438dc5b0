"""Shared fixtures. The suite runs on SQLite by default and on PostgreSQL when
``FIRESTOP_TEST_DATABASE_URL`` points at a server (``scripts/test-all.sh`` starts one)."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session

from firestop import migrate
from firestop.access import service as access
from firestop.access.models import Role
from firestop.api import create_app
from firestop.config import Settings
from firestop.db import make_engine
from firestop.models import Base

PG_SERVER = os.environ.get("FIRESTOP_TEST_DATABASE_URL")
# Tests that exercise the limits set their own; the rest must not trip over them.
RELAXED_LIMITS = {"report_rate_per_minute": 1000, "login_attempts_per_minute": 1000}


def _pg_url(name: str) -> str:
    assert PG_SERVER is not None
    return make_url(PG_SERVER).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Iterator[str | None]:
    """A migrated, empty database for this test process; None means per-test SQLite."""
    if PG_SERVER is None:
        yield None
        return
    name = f"firestop_test_{worker_id}"
    admin = create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = _pg_url(name)
    engine = make_engine(Settings(database_url=url).sqlalchemy_url)
    _build_schema(engine)
    engine.dispose()
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file, copied for each test: fast and fully isolated."""
    directory = tmp_path_factory.mktemp("template")
    engine = make_engine(Settings(data_dir=directory).sqlalchemy_url)
    _build_schema(engine)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return directory / "firestop.db"


def _build_schema(engine: Engine) -> None:
    migrate.upgrade(engine)


def _truncate_all(engine: Engine) -> None:
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture
def settings(tmp_path: Path, database_url: str | None, sqlite_template: Path) -> Iterator[Settings]:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    if database_url is None:
        shutil.copyfile(sqlite_template, data_dir / "firestop.db")
        yield Settings(data_dir=data_dir, **RELAXED_LIMITS)
        return
    s = Settings(data_dir=data_dir, database_url=database_url, **RELAXED_LIMITS)
    yield s
    engine = make_engine(s.sqlalchemy_url)
    _truncate_all(engine)
    engine.dispose()


@pytest.fixture
def app(settings: Settings) -> Iterator[FastAPI]:
    application = create_app(settings)
    yield application
    application.state.engine.dispose()


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def db(app: FastAPI) -> Iterator[Session]:
    session: Session = app.state.sessionmaker()
    yield session
    session.rollback()
    session.close()


@pytest.fixture
def token(app: FastAPI) -> Callable[[Role | str], str]:
    """Make an API token with the given role and return its clear value."""

    def make(role: Role | str) -> str:
        with app.state.sessionmaker() as session:
            _, clear = access.create_token(
                session, name=f"test-{role}", role=Role(role), created_by="tests"
            )
            session.commit()
        return clear

    return make


@pytest.fixture
def auth(token: Callable[[Role | str], str]) -> Callable[[Role | str], dict[str, str]]:
    """Authorization headers for a fresh token with the given role."""
    return lambda role: {"Authorization": f"Bearer {token(role)}"}


@dataclass
class LiveServer:
    url: str
    app: FastAPI


@pytest.fixture
def live_server(app: FastAPI) -> Iterator[LiveServer]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the live server did not start")
        time.sleep(0.01)
    yield LiveServer(url=f"http://127.0.0.1:{port}", app=app)
    server.should_exit = True
    thread.join(timeout=15)
    sock.close()
