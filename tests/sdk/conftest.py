"""Fixtures for the SDK tests: a fake Firestop on loopback and recorders tuned to be quick."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from firestop.sdk import Backoff, Recorder
from tests.sdk.fakeserver import FakeFirestop

# Short waits everywhere so the whole module runs in seconds; the logic is the same.
FAST: dict[str, Any] = {
    "flush_interval": 0.02,
    "timeout": 2.0,
    "backoff": Backoff(initial=0.01, maximum=0.05, refused=0.1),
    "atexit_timeout": None,
}
TOKEN = "fs_test_token"
SYSTEM = "support-bot"


@pytest.fixture
def server() -> Iterator[FakeFirestop]:
    fake = FakeFirestop().start()
    yield fake
    fake.stop()


@pytest.fixture
def make_recorder(server: FakeFirestop) -> Iterator[Callable[..., Recorder]]:
    made: list[Recorder] = []

    def make(url: str | None = None, token: str | None = TOKEN, **options: Any) -> Recorder:
        recorder = Recorder(url or server.url, token, SYSTEM, **{**FAST, **options})
        made.append(recorder)
        return recorder

    yield make
    for recorder in made:
        recorder.close(0.2)


def wait_for(condition: Callable[[], object], timeout: float = 5.0) -> bool:
    """Poll until ``condition()`` is true; the tests assert on the result."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.005)
    return bool(condition())
