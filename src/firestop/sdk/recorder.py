"""The recorder an AI application embeds to send its interactions to Firestop (D2).

Guarantees to the host application:

* ``record()`` and ``report()`` never block and never raise. They check a record lightly, put it
  in a bounded in-memory buffer under a lock held for a few microseconds, and return. A
  background daemon thread batches, compresses and sends; a slow, hanging or absent server only
  ever delays that thread.
* Every record carries a client id (generated when the application gives none), so a batch sent
  twice after a timeout is stored once: retries cannot duplicate.
* Memory is bounded by ``max_buffer`` records (plus the one batch being sent). When the buffer
  is full the *oldest* records are dropped and counted: during an outage the most recent
  behaviour is the most useful to an investigation, and a telemetry client must never grow
  without bound inside its host.
* Nothing is lost silently: ``status()`` counts every drop by reason, and the
  ``firestop.sdk`` logger says when dropping starts and when delivery recovers (rate-limited,
  never one line per record).

Create one ``Recorder`` per process and share it between threads. In pre-forking servers create
it after the fork (for example in a worker start hook): a thread does not survive ``fork()``.
"""

from __future__ import annotations

import atexit
import gzip as gzip_module
import json
import logging
import random
import re
import threading
import time
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Literal, Self

import httpx

from firestop.sdk import records
from firestop.sdk.records import InvalidRecord

log = logging.getLogger("firestop.sdk")

__version__ = "0.1.0"
USER_AGENT = f"firestop-sdk/{__version__} (python; httpx)"
INTERACTIONS_PATH = "/api/v1/interactions"
REPORTS_PATH = "/api/v1/reports"

# Reasons a record can be dropped; status() always lists all of them so dashboards and tests
# see a stable shape.
BUFFER_FULL = "buffer_full"  # the buffer was full: the oldest record made room
INVALID = "invalid"  # the SDK could not make a valid record of what the host gave
REJECTED = "rejected_by_server"  # the server refused the record; resending would not help
TOO_LARGE = "too_large"  # the server refused a request holding only this record as too large
CLOSED = "closed"  # recorded after close(), or still unsent when the recorder stopped
DROP_REASONS = (BUFFER_FULL, INVALID, REJECTED, TOO_LARGE, CLOSED)

Channel = Literal["web", "api", "help_desk", "complaint", "email", "phone", "other"]
_SLUG = re.compile(r"[a-z0-9][a-z0-9._-]{0,99}")  # the server's pattern for a system slug
CHANNELS = frozenset({"web", "api", "help_desk", "complaint", "email", "phone", "other"})


@dataclass(frozen=True)
class Backoff:
    """How long the background thread waits between failed attempts (seconds).

    Transient failures (connection errors, timeouts, 429, 5xx) back off exponentially from
    ``initial`` up to ``maximum`` with jitter, so many application instances recovering together
    do not hit the server in step. A server that refuses the token or does not know the endpoint
    will not change its mind quickly: those are retried every ``refused`` seconds.
    """

    initial: float = 0.5
    maximum: float = 30.0
    refused: float = 60.0

    def delay(self, failures: int) -> float:
        # The exponent is capped: after a long outage 2**failures would overflow a float.
        ceiling = min(self.maximum, self.initial * 2 ** min(max(0, failures - 1), 32))
        # "Equal jitter": at least half the step, so retries never collapse to zero.
        return random.uniform(ceiling / 2, ceiling)  # noqa: S311 - jitter, not security


@dataclass(frozen=True)
class RecorderStatus:
    """A snapshot of what the recorder has done; cheap to take, safe from any thread."""

    buffered: int  # waiting in memory, including a batch being sent right now
    sent: int  # accepted by the server (new or already stored)
    duplicates: int  # of those, how many the server had stored before (retries after timeouts)
    rejected: int  # refused by the server record by record (also in dropped)
    dropped: dict[str, int]  # by reason, see DROP_REASONS
    last_error: str | None
    last_success_at: datetime | None
    consecutive_failures: int
    server_reachable: bool | None  # None until the first attempt; True once it answered at all
    reports_pending: int
    reports_sent: int
    reports_failed: int
    running: bool

    @property
    def dropped_total(self) -> int:
        return sum(self.dropped.values())


class ReportTicket:
    """A user's report on its way to Firestop. ``reference`` is filled once it is delivered.

    The host never has to wait: show "thank you" at once and, if the reference is wanted, read
    it later or call ``wait()`` from a thread that may block.
    """

    def __init__(self, interaction_ref: str | None) -> None:
        self.interaction_ref = interaction_ref
        self.reference: str | None = None
        self.url: str | None = None
        self.error: str | None = None
        self._done = threading.Event()

    @property
    def done(self) -> bool:
        return self._done.is_set()

    @property
    def delivered(self) -> bool:
        return self.reference is not None

    def wait(self, timeout: float | None = None) -> bool:
        """Block up to ``timeout`` seconds for delivery; True when the report has a reference."""
        self._done.wait(timeout)
        return self.reference is not None

    def _resolve(self, reference: str | None, url: str | None) -> None:
        self.reference, self.url = reference, url
        self._done.set()

    def _fail(self, error: str) -> None:
        self.error = error
        self._done.set()

    def __repr__(self) -> str:
        state = self.reference or (f"failed: {self.error}" if self.error else "pending")
        return f"<ReportTicket {state}>"


class Interaction:
    """An interaction being recorded by ``with recorder.interaction(...) as it:``.

    Its ``id`` exists from the start, so the application can attach it to the answer it shows
    (for the "report this answer" button) before the interaction is recorded. On leaving the
    block the latency and end time are filled in and the record is sent, also when the block
    raised: then ``status`` becomes "error" (or "timeout") with the exception as ``error``,
    unless the application set a status itself. The exception is never swallowed.
    """

    def __init__(self, recorder: Recorder, fields: dict[str, Any]) -> None:
        self._recorder = recorder
        if not isinstance(fields.get("id"), str) or not fields["id"]:
            fields["id"] = records.new_id()
        self.id: str = fields["id"]
        self.fields = fields
        self._started = time.perf_counter()
        self._recorded = False

    def set(self, **fields: Any) -> None:
        self.fields.update(fields)

    @property
    def output(self) -> Any:
        return self.fields.get("output", "")

    @output.setter
    def output(self, value: Any) -> None:
        self.fields["output"] = value

    def add_message(self, role: str, content: Any, **extra: Any) -> None:
        self.fields.setdefault("messages", []).append({"role": role, "content": content, **extra})

    def add_tool_call(
        self,
        name: str,
        *,
        arguments: Any = "",
        result: Any = "",
        approval: Mapping[str, Any] | None = None,
        **extra: Any,
    ) -> None:
        call: dict[str, Any] = {"name": name, "arguments": arguments, "result": result, **extra}
        if approval is not None:
            call["approval"] = dict(approval)
        self.fields.setdefault("tool_calls", []).append(call)

    def add_retrieval(self, **document: Any) -> None:
        self.fields.setdefault("retrieval", []).append(document)

    def add_downstream(self, type: str, ref: str, **extra: Any) -> None:
        self.fields.setdefault("downstream", []).append({"type": type, "ref": ref, **extra})

    def __enter__(self) -> Self:
        self._started = time.perf_counter()
        self.fields.setdefault("started_at", datetime.now(UTC))
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._recorded:
            return
        self._recorded = True
        try:
            elapsed_ms = (time.perf_counter() - self._started) * 1000.0
            self.fields.setdefault("latency_ms", round(elapsed_ms, 3))
            self.fields.setdefault("ended_at", datetime.now(UTC))
            if exc is not None and "status" not in self.fields:
                self.fields["status"] = "timeout" if isinstance(exc, TimeoutError) else "error"
                self.fields.setdefault("error", f"{type(exc).__name__}: {exc}"[:4000])
        except Exception:  # noqa: S110 - recording must never mask the host's own exception
            pass
        self._recorder.record(self.fields)


class _Entry:
    __slots__ = ("blob", "data", "id")

    def __init__(self, ident: str, data: dict[str, Any]) -> None:
        self.id = ident
        self.data: dict[str, Any] | None = data
        self.blob: bytes | None = None  # encoded once, then reused by every retry


class _Report:
    __slots__ = ("body", "ticket")

    def __init__(self, body: bytes, ticket: ReportTicket) -> None:
        self.body = body
        self.ticket = ticket


@dataclass
class _Failure:
    """Why a delivery attempt stopped, and what is still to be sent."""

    reason: str
    kind: Literal["transient", "refused"] = "transient"
    retry_after: float | None = None
    pending: list[_Entry] = field(default_factory=list)


class Recorder:
    """Buffers interaction records and sends them to Firestop from a background thread.

    ``base_url`` is the Firestop server (``https://firestop.example``), ``token`` an API token
    allowed to ingest (None: reports only), ``system`` the inventory slug of the AI system
    recorded by default.
    Invalid constructor arguments raise ``ValueError`` at start-up; after that nothing raises.
    """

    def __init__(
        self,
        base_url: str,
        token: str | None,
        system: str,
        *,
        batch_size: int = 200,
        flush_interval: float = 1.0,
        max_buffer: int = 10_000,
        timeout: float = 5.0,
        gzip: bool = True,
        transport: httpx.BaseTransport | None = None,
        gzip_min_bytes: int = 4096,
        max_batch_bytes: int = 1_000_000,
        max_reports: int = 1000,
        backoff: Backoff | None = None,
        log_interval: float = 60.0,
        atexit_timeout: float | None = 2.0,
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ValueError("base_url must start with http:// or https://")
        if not isinstance(system, str) or not _SLUG.fullmatch(system):
            # Checked here, once: a wrong slug would otherwise get every record rejected.
            raise ValueError("system must be the AI system's slug in the Firestop inventory")
        if batch_size < 1 or max_buffer < 1 or max_reports < 1:
            raise ValueError("batch_size, max_buffer and max_reports must be at least 1")
        if flush_interval <= 0 or timeout <= 0:
            raise ValueError("flush_interval and timeout must be positive")
        self.base_url = base_url.rstrip("/")
        self.system = system
        self._batch_size = min(batch_size, max_buffer)
        self._flush_interval = flush_interval
        self._max_buffer = max_buffer
        self._max_reports = max_reports
        self._gzip = gzip
        self._gzip_min_bytes = gzip_min_bytes
        self._max_batch_bytes = max_batch_bytes
        self._backoff = backoff or Backoff()
        self._log_interval = log_interval
        # The idle wake-up: also how soon a drop or recovery shows up in the log.
        self._tick = min(flush_interval, 1.0)

        # Everything below the lock is shared with host threads; the lock is only ever held
        # for short, bounded work (append, move one batch, bump a counter), never around I/O
        # or logging, so record() cannot be made to wait on the network.
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)  # the sender waits here for work
        self._drained = threading.Condition(self._lock)  # flush() waits here
        self._queue: deque[_Entry] = deque()
        self._reports: deque[_Report] = deque()
        self._in_flight = 0
        self._reports_in_flight = 0
        self._dropped = dict.fromkeys(DROP_REASONS, 0)
        self._sent = 0
        self._duplicates = 0
        self._rejected = 0
        self._reports_sent = 0
        self._reports_failed = 0
        self._last_error: str | None = None
        self._last_success_at: datetime | None = None
        self._failures = 0
        self._reachable: bool | None = None
        self._next_attempt = 0.0  # monotonic time before which the sender does not try
        self._next_batch = time.monotonic() + flush_interval
        self._flush_requested = False
        self._closing = False
        self._closed = False
        # Details for the next log line, written by host threads (single assignments).
        self._last_invalid: str | None = None
        self._last_rejected: str | None = None

        # Sender-thread-only state for rate-limited logging.
        self._logged_drops = dict.fromkeys(DROP_REASONS, 0)
        self._last_drop_log = 0.0
        self._dropping = False
        self._failing_since: float | None = None
        self._last_failure_log = 0.0

        headers = {"User-Agent": USER_AGENT}
        if token:
            # Without a token only reports can be sent (the report intake is public).
            headers["Authorization"] = f"Bearer {token}"
        self._client = httpx.Client(
            base_url=self.base_url,
            headers=headers,
            timeout=timeout,
            transport=transport,
        )
        self._thread = threading.Thread(target=self._run, name="firestop-recorder", daemon=True)
        self._thread.start()
        self._atexit_timeout = atexit_timeout
        if atexit_timeout is not None:
            atexit.register(self._at_exit)

    # ------------------------------------------------------------------ host side

    def record(self, interaction: Mapping[str, Any] | None = None, /, **fields: Any) -> str:
        """Queue one interaction and return its client id at once. Never blocks, never raises.

        Give the fields as keywords or as one mapping (keywords win). ``started_at`` defaults to
        now, ``id`` to a fresh UUID and ``system`` to the recorder's. Datetimes may be naive
        (taken as local time) or aware. Do not mutate nested lists or dicts after handing them
        over: they are encoded later, on the background thread, to keep this call cheap.
        """
        data: dict[str, Any] | None = None
        try:
            if interaction is None:
                data = fields
            elif isinstance(interaction, Mapping):
                data = {**interaction, **fields} if fields else dict(interaction)
            else:
                raise InvalidRecord(f"record() takes a mapping, not {type(interaction).__name__}")
            ident = records.prepare(data, self.system)
        except Exception as exc:
            # InvalidRecord is the expected case; anything else (a mapping whose keys() raises,
            # say) is still the host's bad input and still must not reach the host.
            self._last_invalid = str(exc) or type(exc).__name__
            given = data.get("id") if data is not None else None
            ident = given if isinstance(given, str) and given else records.new_id()
            with self._lock:
                self._dropped[INVALID] += 1
            return ident
        entry = _Entry(ident, data)
        with self._lock:
            if self._closed or self._closing:
                self._dropped[CLOSED] += 1
                return ident
            if len(self._queue) >= self._max_buffer:
                # The batch being sent does not count here: if it fails it comes back to the
                # front and the same bound trims it first, since it is the oldest. That keeps
                # drop-oldest exact, at the price of one batch above max_buffer meanwhile.
                self._queue.popleft()
                self._dropped[BUFFER_FULL] += 1
            self._queue.append(entry)
            if len(self._queue) >= self._batch_size:
                self._wake.notify()
        return ident

    def interaction(self, **fields: Any) -> Interaction:
        """A context manager that times an interaction and records it on exit (see Interaction)."""
        return Interaction(self, dict(fields))

    def report(
        self,
        interaction_id: str | None,
        text: str,
        *,
        contact: str | None = None,
        channel: Channel = "web",
        system: str | None = None,
    ) -> ReportTicket:
        """Send an end user's report about an answer ("report this answer"). Returns at once.

        The report reaches Firestop's public intake linked to ``interaction_id`` (the id
        ``record()`` returned). The ticket's ``reference`` is filled once the server answered.
        Note: reports have no client id, so a report whose answer was lost to a timeout may be
        filed twice; a duplicate report is far better than a lost one.
        """
        ticket = ReportTicket(interaction_id)
        try:
            if not isinstance(text, str) or not text.strip():
                raise InvalidRecord("the report text must not be empty")
            if channel not in CHANNELS:
                raise InvalidRecord(f"channel must be one of {', '.join(sorted(CHANNELS))}")
            payload: dict[str, Any] = {
                "text": text,
                "system": system or self.system,
                "channel": channel,
            }
            if interaction_id is not None:
                payload["interaction_ref"] = str(interaction_id)
            if contact is not None:
                payload["contact"] = str(contact)
            body = json.dumps(payload, ensure_ascii=False).encode("utf-8", "replace")
        except Exception as exc:
            ticket._fail(f"not sent: {exc}")
            with self._lock:
                self._reports_failed += 1
            return ticket
        dropped: _Report | None = None
        with self._lock:
            if self._closed or self._closing:
                self._reports_failed += 1
                dropped = _Report(body, ticket)
            else:
                if len(self._reports) + self._reports_in_flight >= self._max_reports and (
                    self._reports
                ):
                    dropped = self._reports.popleft()
                    self._reports_failed += 1
                self._reports.append(_Report(body, ticket))
                self._wake.notify()
        if dropped is not None:
            dropped.ticket._fail("not sent: the recorder is closed or too many reports waited")
        return ticket

    def status(self) -> RecorderStatus:
        with self._lock:
            return RecorderStatus(
                buffered=len(self._queue) + self._in_flight,
                sent=self._sent,
                duplicates=self._duplicates,
                rejected=self._rejected,
                dropped=dict(self._dropped),
                last_error=self._last_error,
                last_success_at=self._last_success_at,
                consecutive_failures=self._failures,
                server_reachable=self._reachable,
                reports_pending=len(self._reports) + self._reports_in_flight,
                reports_sent=self._reports_sent,
                reports_failed=self._reports_failed,
                running=self._thread.is_alive(),
            )

    def flush(self, timeout: float | None = 5.0) -> bool:
        """Block until everything buffered has been delivered (or dropped), or ``timeout``.

        Asks for an attempt now, even during a backoff wait: the caller is usually shutting
        down. Returns True when the buffer is empty. Records added meanwhile by other threads
        count too, so under constant load this may return False at the timeout.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._lock:
            self._flush_requested = True
            self._next_attempt = 0.0
            self._wake.notify()
            while not self._idle_locked():
                if not self._thread.is_alive():
                    return False
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                # Bounded waits: a sender that died without notifying must not hang us.
                self._drained.wait(0.1 if remaining is None else min(remaining, 0.1))
            return True

    def close(self, timeout: float | None = 5.0) -> bool:
        """Flush for up to ``timeout`` seconds, then stop the background thread.

        Whatever is still unsent is counted as dropped ("closed"). Returns True when everything
        was delivered and the thread has stopped. A request hanging on a dead server cannot be
        interrupted; the thread (a daemon) then ends when that request times out.
        """
        if self._atexit_timeout is not None:
            atexit.unregister(self._at_exit)
        return self._close(timeout)

    def _close(self, timeout: float | None) -> bool:
        start = time.monotonic()
        with self._lock:
            if self._closed:
                return not self._thread.is_alive() and self._idle_locked()
        delivered = self.flush(timeout)
        with self._lock:
            self._closing = True
            self._wake.notify()
        remaining = None if timeout is None else max(0.0, timeout - (time.monotonic() - start))
        self._thread.join(remaining)
        return delivered and not self._thread.is_alive()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _at_exit(self) -> None:
        # Not close(): unregistering from inside a running atexit callback is best avoided.
        self._close(self._atexit_timeout)

    def _idle_locked(self) -> bool:
        return not (self._queue or self._in_flight or self._reports or self._reports_in_flight)

    # ------------------------------------------------------------------ sender thread

    def _run(self) -> None:
        try:
            while True:
                work = self._next_work()
                if work is None:
                    break
                batch, reports = work
                try:
                    self._deliver(batch, reports)
                    # After delivering, so refusals and invalid records show up at once.
                    self._log_health()
                except Exception:
                    # A bug here must not kill the thread and silently stop telemetry; put the
                    # work back and carry on after a pause.
                    log.exception("Firestop recorder: unexpected error while sending")
                    try:
                        self._settle(_Failure("unexpected error", pending=batch), reports, [])
                    except Exception:
                        time.sleep(self._tick)
        finally:
            self._stop()

    def _next_work(self) -> tuple[list[_Entry], list[_Report]] | None:
        """Wait until something is due (or one tick passed); take it out of the buffers."""
        with self._lock:
            if self._closing:
                return None
            now = time.monotonic()
            if now < self._next_attempt:
                self._wake.wait(min(self._next_attempt - now, self._tick))
            elif not self._due_locked(now):
                wait = self._tick
                if self._queue:
                    wait = min(wait, max(0.0, self._next_batch - now))
                self._wake.wait(wait)
            if self._closing:
                return None
            now = time.monotonic()
            if now < self._next_attempt or not self._due_locked(now):
                return [], []
            reports = list(self._reports)
            self._reports.clear()
            self._reports_in_flight = len(reports)
            batch: list[_Entry] = []
            if self._queue and (
                self._flush_requested
                or len(self._queue) >= self._batch_size
                or now >= self._next_batch
            ):
                count = min(len(self._queue), self._batch_size)
                batch = [self._queue.popleft() for _ in range(count)]
                self._in_flight = count
                self._next_batch = now + self._flush_interval
            return batch, reports

    def _due_locked(self, now: float) -> bool:
        if self._reports:
            return True
        if not self._queue:
            return False
        return (
            self._flush_requested or len(self._queue) >= self._batch_size or now >= self._next_batch
        )

    def _deliver(self, batch: list[_Entry], reports: list[_Report]) -> None:
        if not batch and not reports:
            return
        unsent_reports: list[_Report] = []
        failure: _Failure | None = None
        for i, report in enumerate(reports):
            failure = self._send_report(report)
            if failure is not None:
                unsent_reports = reports[i:]
                break
        if failure is None and batch:
            failure = self._send_batch(batch)
        elif failure is not None:
            failure.pending = batch
        self._settle(failure, unsent_reports, batch)

    def _settle(
        self, failure: _Failure | None, unsent_reports: list[_Report], batch: list[_Entry]
    ) -> None:
        """Put back what was not delivered, update the failure state, wake flush() waiters."""
        now = time.monotonic()
        recovered_after: tuple[int, float] | None = None
        with self._lock:
            self._in_flight = 0
            self._reports_in_flight = 0
            if failure is None:
                if self._failures and self._failing_since is not None:
                    recovered_after = (self._failures, now - self._failing_since)
                self._failures = 0
                self._failing_since = None
                self._next_attempt = 0.0
            else:
                self._failures += 1
                self._last_error = failure.reason
                if self._failing_since is None:
                    self._failing_since = now
                if failure.kind == "refused":
                    delay = self._backoff.refused
                else:
                    delay = self._backoff.delay(self._failures)
                    if failure.retry_after is not None:
                        delay = min(max(delay, failure.retry_after), self._backoff.maximum)
                self._next_attempt = now + delay
                # Oldest first, back at the front; then the bound applies again, dropping the
                # oldest if new records arrived while these were away.
                self._queue.extendleft(reversed(failure.pending))
                while len(self._queue) > self._max_buffer:
                    self._queue.popleft()
                    self._dropped[BUFFER_FULL] += 1
                self._reports.extendleft(reversed(unsent_reports))
            if not self._queue:
                self._flush_requested = False
            failures = self._failures
            buffered = len(self._queue)
            if self._idle_locked():
                self._drained.notify_all()
        # Logging happens outside the lock: a slow log handler must never stall record().
        if recovered_after is not None:
            count, seconds = recovered_after
            log.warning(
                "Firestop recorder: delivery to %s recovered after %d failed attempt(s) over "
                "%.1f s; %d record(s) still buffered",
                self.base_url,
                count,
                seconds,
                buffered,
            )
        elif failure is not None:
            self._log_failure(failure, failures, buffered)

    def _log_failure(self, failure: _Failure, failures: int, buffered: int) -> None:
        now = time.monotonic()
        if failures == 1:
            self._last_failure_log = now
            if failure.kind == "refused":
                log.error(
                    "Firestop recorder: %s refused the records: %s. They are kept (up to %d) "
                    "and retried every %g s; check the token and base_url",
                    self.base_url,
                    failure.reason,
                    self._max_buffer,
                    self._backoff.refused,
                )
            else:
                log.warning(
                    "Firestop recorder: cannot deliver to %s (%s); keeping %d record(s) and "
                    "retrying with backoff",
                    self.base_url,
                    failure.reason,
                    buffered,
                )
        elif now - self._last_failure_log >= self._log_interval:
            self._last_failure_log = now
            log.warning(
                "Firestop recorder: still cannot deliver to %s after %d attempts (%s); "
                "%d record(s) buffered",
                self.base_url,
                failures,
                failure.reason,
                buffered,
            )

    def _log_health(self) -> None:
        """Say when records start being dropped and when that stops, at most once per
        ``log_interval`` in between: one line per incident, never one per record."""
        now = time.monotonic()
        with self._lock:
            dropped = dict(self._dropped)
            buffered = len(self._queue) + self._in_flight
            healthy = self._failures == 0 and buffered < self._max_buffer // 2 + 1
        new = {k: dropped[k] - self._logged_drops[k] for k in DROP_REASONS}
        fresh = {k: v for k, v in new.items() if v > 0}
        if fresh:
            if self._dropping and now - self._last_drop_log < self._log_interval:
                return
            details = []
            if fresh.get(INVALID) and self._last_invalid:
                details.append(f"last invalid record: {self._last_invalid}")
            if fresh.get(REJECTED) and self._last_rejected:
                details.append(f"last rejected record: {self._last_rejected}")
            log.warning(
                "Firestop recorder: dropped %d record(s)%s (%s); totals %s; %d buffered%s",
                sum(fresh.values()),
                "" if not self._dropping else " since the last report",
                _counts(fresh),
                _counts(dropped),
                buffered,
                "; " + "; ".join(details) if details else "",
            )
            self._logged_drops = dropped
            self._last_drop_log = now
            self._dropping = True
        elif self._dropping and healthy:
            self._dropping = False
            log.warning(
                "Firestop recorder: recovered, no records dropped since the last report; "
                "totals %s; %d buffered",
                _counts(dropped),
                buffered,
            )

    def _post(self, path: str, body: bytes) -> httpx.Response:
        headers = {"Content-Type": "application/json"}
        if self._gzip and len(body) >= self._gzip_min_bytes:
            body = gzip_module.compress(body, compresslevel=6)
            headers["Content-Encoding"] = "gzip"
        return self._client.post(path, content=body, headers=headers)

    def _request(self, path: str, body: bytes) -> httpx.Response | _Failure:
        try:
            response = self._post(path, body)
        except httpx.HTTPError as exc:
            with self._lock:
                self._reachable = False
            return _Failure(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)
        with self._lock:
            self._reachable = True
        return response

    def _send_report(self, report: _Report) -> _Failure | None:
        answer = self._request(REPORTS_PATH, report.body)
        if isinstance(answer, _Failure):
            return answer
        code = answer.status_code
        if 200 <= code < 300:
            found = _json(answer)
            reference = found.get("reference") if isinstance(found, dict) else None
            url = found.get("url") if isinstance(found, dict) else None
            with self._lock:
                self._reports_sent += 1
                self._reports_in_flight -= 1
                self._success_locked()
            # Counters first: whoever wakes on the ticket sees a status() that agrees with it.
            report.ticket._resolve(
                reference if isinstance(reference, str) else None,
                url if isinstance(url, str) else None,
            )
            return None
        if code in (400, 413, 422):
            # The server will never accept this report as it is; retrying would loop forever.
            with self._lock:
                self._reports_failed += 1
                self._reports_in_flight -= 1
                self._success_locked()
            report.ticket._fail(f"refused by the server ({code}): {_problem(answer)}")
            log.warning("Firestop recorder: a report was refused (%d): %s", code, _problem(answer))
            return None
        return _classify(answer)

    def _send_batch(self, batch: list[_Entry]) -> _Failure | None:
        ready: list[_Entry] = []
        for entry in batch:
            if entry.blob is None:
                try:
                    entry.blob = records.encode(entry.data or {})
                except InvalidRecord as exc:
                    self._last_invalid = str(exc)
                    with self._lock:
                        self._dropped[INVALID] += 1
                    continue
                entry.data = None  # the encoded form is all a retry needs
            ready.append(entry)
        chunks = list(_chunks(ready, self._max_batch_bytes))
        for i, chunk in enumerate(chunks):
            failure = self._send_chunk(chunk)
            if failure is not None:
                failure.pending.extend(e for later in chunks[i + 1 :] for e in later)
                return failure
        return None

    def _send_chunk(self, chunk: list[_Entry]) -> _Failure | None:
        body = b"[" + b",".join(e.blob or b"null" for e in chunk) + b"]"
        answer = self._request(INTERACTIONS_PATH, body)
        if isinstance(answer, _Failure):
            answer.pending = list(chunk)
            return answer
        code = answer.status_code
        if 200 <= code < 300:
            self._accepted(chunk, answer)
            return None
        if code in (400, 413, 422):
            if len(chunk) > 1:
                # Too large, or one record spoils the whole body: halve until the culprit is
                # alone. Records in halves that were accepted are not sent again.
                middle = len(chunk) // 2
                first = self._send_chunk(chunk[:middle])
                if first is not None:
                    first.pending.extend(chunk[middle:])
                    return first
                return self._send_chunk(chunk[middle:])
            reason = TOO_LARGE if code == 413 else REJECTED
            self._last_rejected = f"{chunk[0].id}: {code} {_problem(answer)}"
            with self._lock:
                self._dropped[reason] += 1
                if reason == REJECTED:
                    self._rejected += 1
                self._success_locked()
            return None
        failure = _classify(answer)
        failure.pending = list(chunk)
        return failure

    def _accepted(self, chunk: list[_Entry], response: httpx.Response) -> None:
        found = _json(response)
        result = found if isinstance(found, dict) else {}
        refused = result.get("rejected")
        refused = refused if isinstance(refused, list) else []
        if refused:
            first = refused[-1] if isinstance(refused[-1], dict) else {}
            index = first.get("index")
            ident = first.get("id")
            if ident is None and isinstance(index, int) and 0 <= index < len(chunk):
                ident = chunk[index].id
            self._last_rejected = f"{ident}: {_errors(first.get('errors'))}"
        accepted = result.get("accepted")
        if not isinstance(accepted, int):
            accepted = len(chunk) - len(refused)
        duplicates = result.get("duplicates")
        with self._lock:
            self._sent += accepted
            if isinstance(duplicates, int):
                self._duplicates += duplicates
            self._rejected += len(refused)
            self._dropped[REJECTED] += len(refused)
            self._success_locked()

    def _success_locked(self) -> None:
        self._last_success_at = datetime.now(UTC)

    def _stop(self) -> None:
        with self._lock:
            self._closed = True
            leftover = len(self._queue) + self._in_flight
            self._dropped[CLOSED] += leftover
            self._queue.clear()
            self._in_flight = 0
            reports = list(self._reports)
            self._reports.clear()
            self._reports_failed += len(reports)
            self._drained.notify_all()
        for report in reports:
            report.ticket._fail("not sent: the recorder was closed")
        if leftover or reports:
            log.warning(
                "Firestop recorder: closed with %d record(s) and %d report(s) undelivered",
                leftover,
                len(reports),
            )
        self._client.close()


def _chunks(entries: list[_Entry], max_bytes: int) -> Iterable[list[_Entry]]:
    """Split a batch so each request body stays under ``max_bytes`` (a lone record may not)."""
    chunk: list[_Entry] = []
    size = 2
    for entry in entries:
        length = len(entry.blob or b"") + 1
        if chunk and size + length > max_bytes:
            yield chunk
            chunk, size = [], 2
        chunk.append(entry)
        size += length
    if chunk:
        yield chunk


def _classify(response: httpx.Response) -> _Failure:
    code = response.status_code
    reason = f"HTTP {code}: {_problem(response)}"
    if code in (408, 425, 429) or code >= 500:
        return _Failure(reason, "transient", _retry_after(response))
    # 401/403 (token), 404/405 (wrong base_url or an older server) and other refusals: the
    # server will answer the same way for a while, so retry slowly and keep the records.
    return _Failure(reason, "refused")


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "")
    try:
        seconds = float(value)
    except ValueError:
        return None  # HTTP-date form: rare from Firestop; the normal backoff applies
    return max(0.0, seconds)


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _problem(response: httpx.Response) -> str:
    """The server's explanation (RFC 9457 ``detail``), short enough for one log line."""
    found = _json(response)
    if isinstance(found, dict):
        detail = found.get("detail") or found.get("title")
        if detail:
            errors = found.get("errors")
            text = f"{detail} {_errors(errors)}" if errors else str(detail)
            return text[:500]
    return (response.text or response.reason_phrase)[:200]


def _errors(errors: object) -> str:
    if not isinstance(errors, list):
        return str(errors)[:300]
    parts = []
    for error in errors[:3]:
        if isinstance(error, dict):
            parts.append(f"{error.get('loc', '')}: {error.get('msg', '')}")
        else:
            parts.append(str(error))
    return "; ".join(parts)[:300]


def _counts(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{k}={v}" for k, v in counts.items() if v) or "none"
