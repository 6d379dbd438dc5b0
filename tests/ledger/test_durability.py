"""An acknowledged batch survives the server being killed with SIGKILL."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest

from firestop.config import Settings
from tests.ledger.support import record


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _cli(settings: Settings, *args: str) -> str:
    env = {**os.environ}
    if settings.database_url:
        env["FIRESTOP_DATABASE_URL"] = settings.database_url
    done = subprocess.run(
        [sys.executable, "-m", "firestop", "--data-dir", str(settings.data_dir), *args],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=60,
    )
    return done.stdout


def _start(settings: Settings, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ}
    if settings.database_url:
        env["FIRESTOP_DATABASE_URL"] = settings.database_url
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "firestop",
            "--data-dir",
            str(settings.data_dir),
            "serve",
            "--port",
            str(port),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
            if health.status_code == 200 and health.json()["detectors"] == "ready":
                return proc
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    proc.kill()
    raise AssertionError("the server did not start")


@pytest.fixture
def served(settings: Settings, tmp_path: Path) -> Iterator[tuple[Settings, str]]:
    system = tmp_path / "inventory.yaml"
    system.write_text("systems:\n  - {slug: support-bot, name: Support bot, criticality: high}\n")
    _cli(settings, "inventory", "import", str(system))
    token = _cli(settings, "token", "create", "--role", "admin", "--name", "kill-test")
    yield settings, token.strip().splitlines()[-1]


def test_an_acknowledged_batch_is_there_after_sigkill(served: tuple[Settings, str]) -> None:
    settings, token = served
    headers = {"Authorization": f"Bearer {token}", "content-type": "application/json"}
    port = _free_port()
    proc = _start(settings, port)
    try:
        batch = [record(i) for i in range(200)]
        r = httpx.post(
            f"http://127.0.0.1:{port}/api/v1/interactions",
            content=orjson.dumps(batch),
            headers=headers,
            timeout=30,
        )
        assert r.status_code == 200 and r.json()["accepted"] == 200
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    proc = _start(settings, port)
    try:
        listed = httpx.get(
            f"http://127.0.0.1:{port}/api/v1/interactions?limit=1000",
            headers=headers,
            timeout=30,
        ).json()
        assert sorted(i["client_id"] for i in listed) == sorted(f"rec-{i}" for i in range(200))
    finally:
        proc.terminate()
        proc.wait(timeout=10)
