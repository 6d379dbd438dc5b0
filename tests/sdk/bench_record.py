"""How much ``Recorder.record()`` costs the host thread, with the server healthy, down or hanging.

Run: ``.venv/bin/python -m tests.sdk.bench_record [--records N]``

Each scenario records N realistic interactions (a prompt, a ~1 KB answer, a tool call) from the
calling thread and times every call. With the default buffer of 10,000 records, an outage makes
the later calls go through the drop-oldest path too, so that cost is included.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager

from firestop.sdk import Backoff, Recorder
from tests.sdk.fakeserver import FakeFirestop, closed_port

ANSWER = "Your refund of 20 EUR has been issued and should arrive within 5 working days. " * 12


@contextmanager
def scenario(name: str) -> Iterator[str]:
    server = FakeFirestop()
    if name == "down":
        yield f"http://127.0.0.1:{closed_port()}"
        return
    if name == "hanging":
        server.script.extend(["hang"] * 1_000_000)
    server.start()
    try:
        yield server.url
    finally:
        server.stop()


def measure(url: str, records: int) -> list[int]:
    recorder = Recorder(
        url, "fs_bench", "support-bot", backoff=Backoff(initial=0.05, maximum=1.0), timeout=5.0
    )
    costs: list[int] = []
    clock = time.perf_counter_ns
    try:
        for i in range(records):
            start = clock()
            recorder.record(
                model="nimbus-large",
                user_id=f"user-{i % 1000}",
                session_id=f"s-{i % 100}",
                messages=[{"role": "user", "content": "Where is my refund for order 1234?"}],
                output=ANSWER,
                tool_calls=[{"name": "issue_refund", "arguments": '{"amount": 20}'}],
                latency_ms=812.5,
            )
            costs.append(clock() - start)
    finally:
        recorder.close(0.5)
    return costs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=50_000)
    args = parser.parse_args()
    print(f"record() cost on the host thread, {args.records} calls per scenario (µs)")
    print(f"{'server':<10} {'median':>8} {'p99':>8} {'p99.9':>8} {'max':>9}")
    for name in ("healthy", "down", "hanging"):
        with scenario(name) as url:
            costs = sorted(measure(url, args.records))
        q = statistics.quantiles(costs, n=1000)
        print(
            f"{name:<10} {statistics.median(costs) / 1000:8.1f} {q[989] / 1000:8.1f} "
            f"{q[998] / 1000:8.1f} {costs[-1] / 1000:9.1f}"
        )


if __name__ == "__main__":
    main()
