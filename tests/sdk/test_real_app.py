"""The SDK against the real Firestop application, served by uvicorn on loopback.

The fake server in the other module pins the contract; these tests check that the real routes
honour it, over real HTTP, with a real token.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.orm import Session

from firestop.access.models import Role
from firestop.sdk import Backoff, Recorder
from firestop.signals.models import Report

SYSTEM = "support-bot"


@pytest.fixture
def live_url(app: FastAPI) -> Iterator[str]:
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert server.started, "uvicorn did not start"
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(5)


@pytest.fixture
def live_recorder(live_url: str, token: Callable[[Role | str], str]) -> Iterator[Recorder]:
    recorder = Recorder(
        live_url,
        token(Role.telemetry),  # the role an application's token has: ingest and report
        SYSTEM,
        flush_interval=0.05,
        timeout=10.0,
        backoff=Backoff(initial=0.05, maximum=0.2, refused=0.2),
        atexit_timeout=None,
    )
    yield recorder
    recorder.close(1)


def _has_post(app: FastAPI, path: str) -> bool:
    # The OpenAPI document, not app.routes: included routers are not flattened into it.
    return "post" in app.openapi()["paths"].get(path, {})


def test_a_report_reaches_the_real_intake(live_recorder: Recorder, db: Session) -> None:
    ticket = live_recorder.report("chat-17", "The bot told me to stop my medication")
    assert ticket.wait(10), ticket.error
    assert ticket.reference and ticket.url and ticket.reference in ticket.url

    report = db.scalars(select(Report).where(Report.reference == ticket.reference)).one()
    assert report.interaction_ref == "chat-17"
    assert report.channel == "web"
    assert report.system_text == SYSTEM
    assert report.text == "The bot told me to stop my medication"


def test_a_bad_token_is_refused_and_the_report_kept(live_url: str) -> None:
    # The public report intake still checks a token when one is sent: the real server answers
    # 401 and the SDK keeps the report for a later attempt instead of dropping it.
    recorder = Recorder(
        live_url,
        "fs_not_a_real_token",
        SYSTEM,
        flush_interval=0.02,
        backoff=Backoff(initial=0.01, maximum=0.05, refused=0.05),
        atexit_timeout=None,
    )
    try:
        ticket = recorder.report("chat-1", "kept until the token works")
        deadline = time.monotonic() + 10
        while recorder.status().consecutive_failures < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        status = recorder.status()
        assert status.last_error is not None and "401" in status.last_error
        assert status.reports_pending == 1 and status.server_reachable is True
        assert not ticket.done
    finally:
        recorder.close(0.2)


def test_interactions_reach_the_real_ledger(
    app: FastAPI, live_recorder: Recorder, auth: Callable[[Role | str], dict[str, str]]
) -> None:
    if not _has_post(app, "/api/v1/interactions"):
        pytest.skip("the native ingest route /api/v1/interactions is not in the app yet")
    import httpx

    created = httpx.post(
        f"{live_recorder.base_url}/api/v1/inventory/systems",
        json={"slug": SYSTEM, "name": "Support bot", "criticality": "high"},
        headers=auth(Role.admin),
    )
    assert created.status_code == 201, created.text

    ids = [
        live_recorder.record(
            model="nimbus-large",
            messages=[{"role": "user", "content": "hello"}],
            output=f"answer {i}",
            tool_calls=[{"name": "crm", "arguments": {"q": i}}],
        )
        for i in range(3)
    ]
    live_recorder.record(system="Not A Slug", output="refused")  # the server rejects this one
    # Generous: the first batch also waits for whatever the server builds on first use.
    assert live_recorder.flush(20), live_recorder.status()
    status = live_recorder.status()
    assert (status.sent, status.rejected) == (3, 1), status
    before = status.duplicates  # non-zero only if an answer was lost and the batch resent

    # Sending the same client id again changes nothing on the server.
    live_recorder.record(id=ids[0], output="answer 0", model="nimbus-large")
    assert live_recorder.flush(10), live_recorder.status()
    after = live_recorder.status()
    assert (after.sent, after.duplicates) == (4, before + 1), after
