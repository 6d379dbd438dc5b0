"""The SDK recorder against a fake Firestop on loopback: batching, retries, limits, reports."""

from __future__ import annotations

import gzip
import json
import logging
import math
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from firestop.ledger.schemas import InteractionIn
from firestop.sdk import DROP_REASONS, FIELDS, Recorder
from tests.sdk.conftest import SYSTEM, TOKEN, wait_for
from tests.sdk.fakeserver import FakeFirestop, closed_port

Make = Callable[..., Recorder]
SLOW_TIMER = 60.0  # a flush interval that never fires during a test: only size or flush() send


def sdk_warnings(caplog: pytest.LogCaptureFixture, level: int = logging.WARNING) -> list[str]:
    return [
        r.getMessage() for r in caplog.records if r.name == "firestop.sdk" and r.levelno == level
    ]


# ---------------------------------------------------------------- batching and the wire format


def test_records_are_batched_by_size(server: FakeFirestop, make_recorder: Make) -> None:
    recorder = make_recorder(batch_size=10, flush_interval=SLOW_TIMER)
    ids = [recorder.record(output=f"answer {i}") for i in range(25)]

    assert recorder.flush(5)
    sizes = [len(r.body) for r in server.interaction_requests()]
    assert sizes == [10, 10, 5]  # ceil(25 / 10) requests, full ones first
    assert server.accepted_ids() == ids
    status = recorder.status()
    assert (status.sent, status.buffered, status.dropped_total) == (25, 0, 0)
    assert status.server_reachable is True
    assert status.last_success_at is not None


def test_the_timer_sends_a_partial_batch(server: FakeFirestop, make_recorder: Make) -> None:
    recorder = make_recorder(batch_size=100, flush_interval=0.05)
    ident = recorder.record(output="alone")
    assert wait_for(lambda: server.accepted_ids() == [ident])


def test_wire_format_headers_and_schema(server: FakeFirestop, make_recorder: Make) -> None:
    recorder = make_recorder(flush_interval=SLOW_TIMER)
    naive = datetime(2026, 3, 1, 12, 0, 0)
    recorder.record(
        model="nimbus-large",
        user_id="u-1",
        ended_at=naive,
        messages=[{"role": "user", "content": [{"type": "text", "text": "hi"}]}],
        tool_calls=[
            {
                "name": "issue_refund",
                "arguments": {"amount": 20},
                "approval": {"status": "approved", "by": "lena", "at": naive},
            }
        ],
        downstream=[{"type": "customer_message", "ref": "msg-9"}],
        parameters={"temperature": 0.2},
    )
    assert recorder.flush(5)

    (request,) = server.interaction_requests()
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.headers["Content-Type"] == "application/json"
    assert "Content-Encoding" not in request.headers  # a small body is not worth compressing
    (sent,) = request.body
    # The server's own schema accepts what the SDK produced.
    record = InteractionIn.model_validate(sent)
    assert record.system == SYSTEM
    assert len(sent["id"]) == 32 and int(sent["id"], 16) >= 0  # uuid4 hex
    assert record.started_at.tzinfo is not None  # defaulted, with a zone
    assert record.ended_at is not None and record.ended_at.tzinfo is not None
    assert json.loads(record.tool_calls[0].arguments) == {"amount": 20}
    assert json.loads(record.messages[0].content) == [{"type": "text", "text": "hi"}]


def test_none_means_not_given(server: FakeFirestop, make_recorder: Make) -> None:
    recorder = make_recorder(flush_interval=SLOW_TIMER)
    recorder.record(
        output=None,
        tool_calls=None,
        parameters=None,
        ended_at=None,
        messages=[{"role": "assistant", "content": None}],
    )
    assert recorder.flush(5)
    (sent,) = server.interaction_requests()[0].body
    InteractionIn.model_validate(sent)  # the server would take it as it is
    assert not {"output", "tool_calls", "parameters", "ended_at"} & sent.keys()
    assert sent["messages"] == [{"role": "assistant", "content": ""}]


def test_large_batches_are_gzipped(server: FakeFirestop, make_recorder: Make) -> None:
    recorder = make_recorder(flush_interval=SLOW_TIMER)
    ids = [recorder.record(output="lorem ipsum " * 200) for _ in range(5)]
    assert recorder.flush(5)

    (request,) = server.interaction_requests()
    assert request.headers["Content-Encoding"] == "gzip"
    decoded = json.loads(gzip.decompress(request.raw))
    assert [r["id"] for r in decoded] == ids
    assert len(request.raw) < len(json.dumps(decoded)) / 5


def test_gzip_can_be_turned_off(server: FakeFirestop, make_recorder: Make) -> None:
    recorder = make_recorder(flush_interval=SLOW_TIMER, gzip=False)
    recorder.record(output="lorem ipsum " * 2000)
    assert recorder.flush(5)
    (request,) = server.interaction_requests()
    assert "Content-Encoding" not in request.headers
    assert json.loads(request.raw)[0]["output"].startswith("lorem")


def test_batches_are_split_to_stay_under_the_byte_limit(
    server: FakeFirestop, make_recorder: Make
) -> None:
    recorder = make_recorder(flush_interval=SLOW_TIMER, max_batch_bytes=5000)
    ids = [recorder.record(output="x" * 1500) for _ in range(7)]
    assert recorder.flush(5)
    requests = server.interaction_requests()
    assert len(requests) >= 3
    assert all(len(json.dumps(r.body, separators=(",", ":"))) <= 5000 for r in requests)
    assert server.accepted_ids() == ids


def test_field_list_matches_the_server_schema() -> None:
    assert set(InteractionIn.model_fields) == FIELDS


# ---------------------------------------------------------------- retries and idempotency


def test_retry_after_500_sends_the_same_ids_once_acknowledged(
    server: FakeFirestop, make_recorder: Make
) -> None:
    server.script.extend(["500", "503"])
    recorder = make_recorder(flush_interval=SLOW_TIMER)
    ids = [recorder.record(output=str(i)) for i in range(5)]
    assert recorder.flush(5)

    requests = server.interaction_requests()
    assert [r.status for r in requests] == [500, 503, 200]
    assert all(r.ids == ids for r in requests)  # same client ids every time: retries are safe
    assert server.accepted_ids() == ids
    status = recorder.status()
    assert (status.sent, status.consecutive_failures) == (5, 0)
    assert status.last_error is not None and "503" in status.last_error

    # Acknowledged records are never sent again.
    time.sleep(0.1)
    assert len(server.interaction_requests()) == 3


def test_a_lost_answer_is_resent_and_counted_as_duplicate(
    server: FakeFirestop, make_recorder: Make
) -> None:
    # The first request is stored but the answer never comes (client timeout); the retry
    # carries the same ids, so the server reports duplicates instead of storing twice.
    server.script.append("lost")
    recorder = make_recorder(flush_interval=SLOW_TIMER, timeout=0.3)
    ids = [recorder.record(output=str(i)) for i in range(3)]
    assert recorder.flush(5)

    requests = server.interaction_requests()
    assert len(requests) == 2 and requests[0].ids == requests[1].ids == ids
    assert server.stored == set(ids)
    status = recorder.status()
    assert (status.sent, status.duplicates) == (3, 3)
    assert "Timeout" in (status.last_error or "")


def test_413_splits_the_batch_and_sends_nothing_twice(
    server: FakeFirestop, make_recorder: Make
) -> None:
    server.max_body = 2500  # about three records of this size per request
    recorder = make_recorder(flush_interval=SLOW_TIMER, gzip=False)
    ids = [recorder.record(output="y" * 600) for _ in range(16)]
    assert recorder.flush(5)

    statuses = Counter(r.status for r in server.interaction_requests())
    assert statuses[413] >= 3
    accepted = server.accepted_ids()
    assert sorted(accepted) == sorted(ids)  # everything arrived exactly once
    assert len(accepted) == len(set(accepted))
    assert recorder.status().dropped_total == 0


def test_after_a_split_only_the_unacknowledged_half_is_retried(
    server: FakeFirestop, make_recorder: Make
) -> None:
    server.script.extend(["413", "ok", "500"])
    recorder = make_recorder(flush_interval=SLOW_TIMER)
    ids = [recorder.record(output=str(i)) for i in range(10)]
    assert recorder.flush(5)

    requests = server.interaction_requests()
    assert [(r.status, r.ids) for r in requests] == [
        (413, ids),
        (200, ids[:5]),
        (500, ids[5:]),
        (200, ids[5:]),
    ]


def test_a_record_too_large_on_its_own_is_dropped(
    server: FakeFirestop, make_recorder: Make
) -> None:
    server.max_body = 10_000
    recorder = make_recorder(flush_interval=SLOW_TIMER, gzip=False)
    small = recorder.record(output="fine")
    recorder.record(output="z" * 20_000)
    last = recorder.record(output="also fine")
    assert recorder.flush(5)

    assert server.accepted_ids() == [small, last]
    status = recorder.status()
    assert status.dropped["too_large"] == 1
    assert status.sent == 2


def test_429_is_retried(server: FakeFirestop, make_recorder: Make) -> None:
    server.script.append("429")
    recorder = make_recorder(flush_interval=SLOW_TIMER)
    ident = recorder.record()
    assert recorder.flush(5)
    assert [r.status for r in server.interaction_requests()] == [429, 200]
    assert server.accepted_ids() == [ident]


def test_a_refused_token_is_logged_once_and_the_records_kept(
    server: FakeFirestop, make_recorder: Make, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="firestop.sdk")
    server.script.extend(["401", "401", "403", "401"])
    recorder = make_recorder(flush_interval=SLOW_TIMER)
    ids = [recorder.record(output=str(i)) for i in range(4)]

    assert recorder.flush(5)
    assert [r.status for r in server.interaction_requests()] == [401, 401, 403, 401, 200]
    assert server.accepted_ids() == ids
    errors = sdk_warnings(caplog, logging.ERROR)
    assert len(errors) == 1 and "401" in errors[0] and "token" in errors[0]
    assert wait_for(
        lambda: any("recovered after 4 failed attempt" in m for m in sdk_warnings(caplog))
    )


def test_backoff_grows_with_jitter_and_stays_bounded() -> None:
    from firestop.sdk import Backoff

    backoff = Backoff(initial=1.0, maximum=30.0)
    assert 0.5 <= backoff.delay(1) <= 1.0
    assert 4.0 <= backoff.delay(4) <= 8.0
    assert len({backoff.delay(4) for _ in range(20)}) > 1  # jittered, not in lock step
    assert 15.0 <= backoff.delay(10_000) <= 30.0  # a days-long outage neither overflows nor grows


def test_refusals_are_retried_slowly(server: FakeFirestop, make_recorder: Make) -> None:
    from firestop.sdk import Backoff

    server.script.extend(["401"] * 50)
    recorder = make_recorder(backoff=Backoff(initial=0.01, maximum=0.02, refused=0.2))
    recorder.record()
    time.sleep(0.3)
    # Quick retries would have made ~15 attempts by now; the slow path makes two.
    assert 1 <= len(server.interaction_requests()) <= 3
    assert recorder.status().buffered == 1


# ---------------------------------------------------------------- rejected and invalid records


def test_rejected_records_are_counted_and_not_retried(
    server: FakeFirestop, make_recorder: Make, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="firestop.sdk")

    def reject(record: dict[str, Any]) -> list[dict[str, str]] | None:
        if record.get("output") == "bad":
            return [{"loc": "output", "msg": "not allowed here"}]
        return None

    server.reject = reject
    recorder = make_recorder(flush_interval=SLOW_TIMER)
    outputs = ["ok", "bad", "ok", "bad", "ok"]
    ids = [recorder.record(output=o) for o in outputs]
    assert recorder.flush(5)

    assert len(server.interaction_requests()) == 1  # never resent
    status = recorder.status()
    assert (status.sent, status.rejected, status.dropped["rejected_by_server"]) == (3, 2, 2)
    assert wait_for(lambda: any("rejected_by_server=2" in m for m in sdk_warnings(caplog)))
    message = next(m for m in sdk_warnings(caplog) if "rejected_by_server" in m)
    assert ids[3] in message and "not allowed here" in message


def test_a_422_for_the_whole_body_isolates_the_bad_record(
    server: FakeFirestop, make_recorder: Make
) -> None:
    server.script.extend(["422", "ok", "422"])  # whole batch, first half ok, then the culprit
    recorder = make_recorder(flush_interval=SLOW_TIMER)
    ids = [recorder.record(output=str(i)) for i in range(2)]
    assert recorder.flush(5)
    assert server.accepted_ids() == ids[:1]
    assert recorder.status().dropped["rejected_by_server"] == 1


def test_bad_input_is_counted_never_raised(
    server: FakeFirestop, make_recorder: Make, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="firestop.sdk")
    recorder = make_recorder(flush_interval=SLOW_TIMER)
    bad: list[Callable[[], str]] = [
        lambda: recorder.record(prompt="misspelt field"),
        lambda: recorder.record(object()),  # type: ignore[arg-type]
        lambda: recorder.record(started_at=12345),
        lambda: recorder.record(status="exploded"),
        lambda: recorder.record(latency_ms="fast"),
        lambda: recorder.record(messages="not a list"),
        lambda: recorder.record(id=""),
        lambda: recorder.record({1: "non-string key"}),  # type: ignore[dict-item]
        # Found only when encoding, on the background thread:
        lambda: recorder.record(attributes={"x": object()}),
        lambda: recorder.record(parameters={"temperature": math.nan}),
    ]
    returned = [make() for make in bad]
    good = recorder.record(output="fine", id="client-7")
    assert recorder.flush(5)

    assert all(isinstance(i, str) and i for i in returned)
    assert good == "client-7"
    assert server.accepted_ids() == [good]
    status = recorder.status()
    assert status.dropped["invalid"] == len(bad)
    assert status.sent == 1
    assert wait_for(lambda: any("invalid=" in m for m in sdk_warnings(caplog)))


def test_a_given_id_is_kept_and_returned(server: FakeFirestop, make_recorder: Make) -> None:
    recorder = make_recorder(flush_interval=SLOW_TIMER)
    assert recorder.record({"id": "chat-42", "output": "a"}, model="m") == "chat-42"
    assert recorder.flush(5)
    (sent,) = server.interaction_requests()[0].body
    assert (sent["id"], sent["model"], sent["output"]) == ("chat-42", "m", "a")


# ---------------------------------------------------------------- outages and the bounded buffer


def test_server_down_the_host_keeps_working(make_recorder: Make) -> None:
    recorder = make_recorder(url=f"http://127.0.0.1:{closed_port()}", max_buffer=100_000)
    ids = [recorder.record(output=str(i)) for i in range(2000)]

    assert len(set(ids)) == 2000
    assert wait_for(lambda: recorder.status().consecutive_failures >= 2)
    status = recorder.status()
    assert status.server_reachable is False
    assert status.buffered == 2000
    assert status.last_error is not None and "Connect" in status.last_error
    assert not recorder.flush(0.1)


def test_hanging_server_does_not_hold_the_host(server: FakeFirestop, make_recorder: Make) -> None:
    server.script.extend(["hang"] * 10)
    recorder = make_recorder(batch_size=10, timeout=0.5)
    first = recorder.record()
    assert wait_for(lambda: len(server.interaction_requests()) == 1)  # the sender is stuck
    ids = [first] + [recorder.record(output=str(i)) for i in range(2000)]
    assert len(set(ids)) == 2001
    assert recorder.status().buffered == 2001
    assert recorder.close(0.2) is False  # gives up on time instead of waiting for the server


def test_full_buffer_drops_the_oldest_warns_and_recovers(
    server: FakeFirestop, make_recorder: Make, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="firestop.sdk")
    server.stop()
    recorder = make_recorder(url=server.url, batch_size=10, max_buffer=50, log_interval=0.2)
    ids = [recorder.record(output=str(i)) for i in range(120)]
    after = recorder.status().consecutive_failures
    # One failed attempt after the last record: the buffer now holds exactly the newest 50.
    assert wait_for(lambda: recorder.status().consecutive_failures > after)

    status = recorder.status()
    assert status.dropped["buffer_full"] == 70
    assert status.buffered == 50
    assert wait_for(lambda: any("buffer_full=70" in m for m in sdk_warnings(caplog)))
    drop_lines = [m for m in sdk_warnings(caplog) if "dropped" in m]
    assert 1 <= len(drop_lines) <= 5  # summarised, not one line per record
    assert wait_for(lambda: any("cannot deliver" in m for m in sdk_warnings(caplog)))

    server.start()  # the same port: the server is back
    assert recorder.flush(5)
    assert server.accepted_ids() == ids[-50:]
    assert wait_for(lambda: any("recovered," in m for m in sdk_warnings(caplog)))
    assert wait_for(
        lambda: any("delivery to" in m and "recovered after" in m for m in sdk_warnings(caplog))
    )
    assert recorder.status().consecutive_failures == 0


def test_drop_warnings_are_rate_limited(
    make_recorder: Make, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="firestop.sdk")
    recorder = make_recorder(url=f"http://127.0.0.1:{closed_port()}", max_buffer=5)
    for _ in range(10):
        recorder.record()
    assert wait_for(lambda: any("dropped" in m for m in sdk_warnings(caplog)))
    for _ in range(100):
        recorder.record()
    time.sleep(0.3)  # many sender ticks: each could have logged, none may within log_interval
    assert len([m for m in sdk_warnings(caplog) if "dropped" in m]) == 1
    assert recorder.status().dropped["buffer_full"] == 105


def test_backlog_is_delivered_when_the_server_returns(
    server: FakeFirestop, make_recorder: Make
) -> None:
    recorder = make_recorder(batch_size=20)
    early = [recorder.record(output=f"early {i}") for i in range(5)]
    assert recorder.flush(5)
    server.stop()
    outage = [recorder.record(output=f"outage {i}") for i in range(45)]
    assert wait_for(lambda: recorder.status().consecutive_failures >= 2)

    server.start()
    assert recorder.flush(5)
    accepted = server.accepted_ids()
    assert accepted == early + outage
    assert recorder.status().dropped_total == 0


def test_many_threads_record_concurrently(server: FakeFirestop, make_recorder: Make) -> None:
    recorder = make_recorder(batch_size=50)
    per_thread, threads = 250, 8
    results: list[list[str]] = [[] for _ in range(threads)]

    def work(slot: int) -> None:
        results[slot] = [recorder.record(output=f"{slot}-{i}") for i in range(per_thread)]

    workers = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert recorder.flush(10)

    expected = [i for ids in results for i in ids]
    accepted = server.accepted_ids()
    assert len(accepted) == len(expected) == per_thread * threads
    assert set(accepted) == set(expected)
    assert recorder.status().sent == per_thread * threads


# ---------------------------------------------------------------- the interaction helper


def test_interaction_context_records_timing_and_content(
    server: FakeFirestop, make_recorder: Make
) -> None:
    recorder = make_recorder(flush_interval=SLOW_TIMER)
    with recorder.interaction(model="nimbus-large", user_id="u-7") as it:
        it.add_message("user", "refund me")
        it.add_tool_call(
            "issue_refund", arguments={"amount": 20}, result="done", approval={"status": "none"}
        )
        it.add_retrieval(uri="kb://refunds", content="policy", trust="trusted")
        it.add_downstream("customer_message", "msg-1")
        time.sleep(0.02)
        it.output = "Refunded."
    assert recorder.flush(5)

    (sent,) = server.interaction_requests()[0].body
    record = InteractionIn.model_validate(sent)
    assert sent["id"] == it.id
    assert record.output == "Refunded." and record.status == "ok"
    assert record.latency_ms is not None and record.latency_ms >= 20
    assert record.ended_at is not None and record.ended_at >= record.started_at
    assert record.tool_calls[0].name == "issue_refund"
    assert record.retrieval[0].trust == "trusted"
    assert record.downstream[0].ref == "msg-1"


def test_interaction_records_an_exception_and_lets_it_through(
    server: FakeFirestop, make_recorder: Make
) -> None:
    recorder = make_recorder(flush_interval=SLOW_TIMER)
    with pytest.raises(ZeroDivisionError), recorder.interaction(model="m") as failing:
        raise ZeroDivisionError("no answer")
    with pytest.raises(TimeoutError), recorder.interaction(model="m"):
        raise TimeoutError("provider too slow")
    assert recorder.flush(5)

    first, second = server.interaction_requests()[0].body
    assert first["id"] == failing.id
    assert first["status"] == "error" and first["error"] == "ZeroDivisionError: no answer"
    assert second["status"] == "timeout"


# ---------------------------------------------------------------- reports


def test_report_this_answer_arrives_linked(server: FakeFirestop, make_recorder: Make) -> None:
    recorder = make_recorder(flush_interval=SLOW_TIMER)
    ident = recorder.record(output="a rude answer")
    ticket = recorder.report(ident, "This answer insulted me", contact="kim@example.com")
    assert ticket.wait(5)

    assert ticket.reference == "R-0001" and ticket.url == "/report/R-0001"
    (request,) = server.report_requests()
    assert request.body == {
        "text": "This answer insulted me",
        "system": SYSTEM,
        "channel": "web",
        "interaction_ref": ident,
        "contact": "kim@example.com",
    }
    assert recorder.status().reports_sent == 1


def test_report_waits_out_an_outage_without_blocking(
    server: FakeFirestop, make_recorder: Make
) -> None:
    server.stop()
    recorder = make_recorder(url=server.url)
    ticket = recorder.report("chat-1", "wrong medical advice", channel="help_desk")
    assert not ticket.done  # returned at once, nothing delivered yet
    assert wait_for(lambda: recorder.status().consecutive_failures >= 2)
    assert recorder.status().reports_pending == 1

    server.start()
    assert ticket.wait(5)
    assert server.report_requests()[0].body["channel"] == "help_desk"


def test_reports_need_no_token(server: FakeFirestop, make_recorder: Make) -> None:
    recorder = make_recorder(token=None)
    assert recorder.report(None, "anonymous report").wait(5)
    assert "Authorization" not in server.report_requests()[0].headers


def test_a_refused_report_fails_its_ticket(server: FakeFirestop, make_recorder: Make) -> None:
    recorder = make_recorder()
    server.script.append("422")
    refused = recorder.report("chat-1", "text")
    assert not refused.wait(5)
    assert refused.done and refused.error is not None and "422" in refused.error

    blank = recorder.report("chat-1", "   ")
    assert blank.done and not blank.delivered  # never sent
    wrong = recorder.report("chat-1", "text", channel="carrier pigeon")  # type: ignore[arg-type]
    assert wrong.done and wrong.error is not None and "channel" in wrong.error
    assert recorder.status().reports_failed == 3
    assert len(server.report_requests()) == 1


# ---------------------------------------------------------------- closing


def test_close_delivers_and_stops_the_thread(server: FakeFirestop, make_recorder: Make) -> None:
    recorder = make_recorder(flush_interval=SLOW_TIMER)
    ids = [recorder.record() for _ in range(3)]
    assert recorder.close(5)

    assert server.accepted_ids() == ids
    assert not recorder._thread.is_alive()
    status = recorder.status()
    assert status.running is False
    late = recorder.record(output="too late")
    assert isinstance(late, str)
    assert recorder.status().dropped["closed"] == 1
    assert recorder.close(1)  # closing twice is harmless


def test_close_counts_what_it_could_not_deliver(make_recorder: Make) -> None:
    recorder = make_recorder(url=f"http://127.0.0.1:{closed_port()}")
    for _ in range(4):
        recorder.record()
    ticket = recorder.report(None, "something is wrong")
    assert recorder.close(0.2) is False
    assert wait_for(lambda: not recorder.status().running)
    status = recorder.status()
    assert status.dropped["closed"] == 4 and status.buffered == 0
    assert ticket.done and not ticket.delivered and ticket.error is not None


def test_status_shape_is_stable(make_recorder: Make) -> None:
    status = make_recorder().status()
    assert tuple(status.dropped) == DROP_REASONS
    assert status.server_reachable is None  # never tried yet
    assert status.running is True


def test_constructor_refuses_bad_configuration() -> None:
    with pytest.raises(ValueError, match="base_url"):
        Recorder("firestop.example", TOKEN, SYSTEM)
    with pytest.raises(ValueError, match="slug"):
        Recorder("http://127.0.0.1:1", TOKEN, "Support Bot")
    with pytest.raises(ValueError, match="batch_size"):
        Recorder("http://127.0.0.1:1", TOKEN, SYSTEM, batch_size=0)


def test_started_at_is_kept_when_given(server: FakeFirestop, make_recorder: Make) -> None:
    recorder = make_recorder(flush_interval=SLOW_TIMER)
    when = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    recorder.record(started_at=when)
    recorder.record(started_at="2026-01-02T03:04:05Z")
    assert recorder.flush(5)
    first, second = server.interaction_requests()[0].body
    assert first["started_at"] == "2026-01-02T03:04:05+00:00"
    assert second["started_at"] == "2026-01-02T03:04:05Z"
