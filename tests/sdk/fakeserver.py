"""A small stand-in for the Firestop ingest and report API, served over real HTTP on loopback.

It records every request (decompressed and parsed) and can be told, request by request, to
fail in the ways the SDK must survive: 5xx, 413, 401, 429, or hanging without an answer. It
can also stop listening and start again on the same port, like a server restarting.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import socket
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

INTERACTIONS = "/api/v1/interactions"
REPORTS = "/api/v1/reports"


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    raw: bytes  # the body as it came over the wire (maybe gzip)
    body: Any  # parsed JSON
    status: int = 0  # what the server answered (0: it never answered)

    @property
    def ids(self) -> list[str]:
        return [r.get("id") for r in self.body] if isinstance(self.body, list) else []


@dataclass
class FakeFirestop:
    # Answers for the next requests, in order ("500", "413", "401", "429", "hang", "lost",
    # "ok");
    # when empty every request is answered normally.
    script: deque[str] = field(default_factory=deque)
    # Requests whose body is larger than this (uncompressed) are answered 413.
    max_body: int | None = None
    # Called per record; a non-empty list of errors makes the server reject that record.
    reject: Callable[[dict[str, Any]], list[dict[str, str]] | None] | None = None
    # Every request is held this long before being served (a slow server).
    delay: float = 0.0
    requests: list[Received] = field(default_factory=list)
    stored: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.lock = threading.Lock()
        self.release = threading.Event()  # lets hanging handlers go at shutdown
        self.port = 0
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.reports = 0
        self._connections: set[socket.socket] = set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FakeFirestop:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # else each answer waits ~40 ms for a delayed ACK

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def setup(self) -> None:
                super().setup()
                with fake.lock:
                    fake._connections.add(self.connection)

            def finish(self) -> None:
                with fake.lock:
                    fake._connections.discard(self.connection)
                super().finish()

            def do_POST(self) -> None:
                fake._handle(self)

        self.release.clear()
        server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        server.daemon_threads = True
        self.port = server.server_address[1]
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening: new connections are refused until start() is called again."""
        self.release.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        # Kept-alive connections would otherwise go on being served by their handler threads.
        with self.lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    # ------------------------------------------------------------------ what arrived

    def interaction_requests(self, status: int | None = None) -> list[Received]:
        with self.lock:
            found = [r for r in self.requests if r.path == INTERACTIONS]
        return [r for r in found if status is None or r.status == status]

    def accepted_ids(self) -> list[str]:
        """Ids in every body the server answered 200 to, in order, repeats included."""
        return [i for r in self.interaction_requests(200) for i in r.ids]

    def report_requests(self) -> list[Received]:
        with self.lock:
            return [r for r in self.requests if r.path == REPORTS]

    # ------------------------------------------------------------------ serving

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length", "0"))
        raw = handler.rfile.read(length)
        data = gzip.decompress(raw) if handler.headers.get("Content-Encoding") == "gzip" else raw
        try:
            body = json.loads(data)
        except ValueError:
            body = None
        received = Received(handler.path, dict(handler.headers.items()), raw, body)
        with self.lock:
            self.requests.append(received)
            action = self.script.popleft() if self.script else "ok"
        if self.delay:
            self.release.wait(self.delay)
        if action in ("hang", "lost"):
            # Accept the request and never answer: the client must time out on its own.
            # "lost" stores the records first, like a server whose answer got lost.
            if action == "lost" and isinstance(received.body, list):
                self._store(received.body)
            self.release.wait(30)
            handler.close_connection = True
            return
        if action != "ok":
            code = int(action)
            headers = {"Retry-After": "0"} if code == 429 else {}
            self._answer(handler, received, code, {"detail": f"scripted {code}"}, headers)
        elif self.max_body is not None and len(data) > self.max_body:
            self._answer(handler, received, 413, {"detail": "the body is too large"})
        elif received.path == REPORTS:
            self._report(handler, received)
        elif received.path == INTERACTIONS:
            self._ingest(handler, received)
        else:
            self._answer(handler, received, 404, {"detail": "not found"})

    def _report(self, handler: BaseHTTPRequestHandler, received: Received) -> None:
        body = received.body
        if not isinstance(body, dict) or not str(body.get("text", "")).strip():
            self._answer(handler, received, 422, {"detail": "the report is not valid"})
            return
        with self.lock:
            self.reports += 1
            reference = f"R-{self.reports:04d}"
        self._answer(
            handler,
            received,
            201,
            {"reference": reference, "url": f"/report/{reference}", "status": "received"},
        )

    def _ingest(self, handler: BaseHTTPRequestHandler, received: Received) -> None:
        if not isinstance(received.body, list):
            self._answer(handler, received, 422, {"detail": "send a JSON array"})
            return
        self._answer(handler, received, 200, self._store(received.body))

    def _store(self, records: list[dict[str, Any]]) -> dict[str, Any]:
        accepted = duplicates = 0
        rejected: list[dict[str, Any]] = []
        with self.lock:
            for index, record in enumerate(records):
                errors = self.reject(record) if self.reject else None
                if errors:
                    rejected.append({"index": index, "id": record.get("id"), "errors": errors})
                    continue
                accepted += 1
                if record.get("id") in self.stored:
                    duplicates += 1
                self.stored.add(record.get("id"))
        return {
            "accepted": accepted,
            "duplicates": duplicates,
            "rejected": rejected,
            "signals": 0,
            "partial": bool(rejected),
        }

    def _answer(
        self,
        handler: BaseHTTPRequestHandler,
        received: Received,
        code: int,
        payload: dict[str, Any],
        headers: dict[str, str] | None = None,
    ) -> None:
        data = json.dumps(payload).encode()
        received.status = code
        handler.send_response(code)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(data)


def closed_port() -> int:
    """A loopback port nobody listens on: connecting is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
