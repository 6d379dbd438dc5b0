"""End-to-end ingest throughput: HTTP batch → durable ledger → all default detectors → signals.

    .venv/bin/python bench/ingest.py --db sqlite --n 100000
    .venv/bin/python bench/ingest.py --db postgres --n 100000   # starts a durable PG 15
    .venv/bin/python bench/ingest.py --detectors-only --n 20000  # per-detector cost in-process
    .venv/bin/python bench/ingest.py --detectors-only --n 3000 --presidio 500  # and Presidio's
    .venv/bin/python bench/ingest.py --stages --n 5000   # where ingest's time goes, in-process

A real ``firestop serve`` runs in its own processes (``--workers``) on a fresh database; a
client sends pre-encoded gzip JSON batches from a few threads and waits for each answer. An
answer means the batch is committed with its findings and signals, so the time from sending a
batch to its answer is the ingest-to-signal latency of every record in it. Storage is durable:
SQLite in WAL mode, PostgreSQL with fsync and synchronous commit on.
"""

from __future__ import annotations

import argparse
import gzip
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import orjson
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.corpus.generate import generate  # noqa: E402
from bench.corpus.systems import configs, inventory  # noqa: E402


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


@contextmanager
def postgres() -> Iterator[str]:
    directory = tempfile.mkdtemp(prefix="firestop-bench-pg.")
    env = {**os.environ, "FIRESTOP_PG_DURABLE": "1"}
    script = str(ROOT / "scripts" / "test-db.sh")
    url = subprocess.run(
        [script, "start", directory], env=env, capture_output=True, text=True, check=True
    ).stdout.strip()
    try:
        yield url
    finally:
        subprocess.run([script, "stop", directory], check=False)


def _cli(env: dict[str, str], data_dir: Path, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "firestop", "--data-dir", str(data_dir), *args],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


@contextmanager
def server(database_url: str | None, workers: int) -> Iterator[tuple[str, str, dict[str, str]]]:
    data_dir = Path(tempfile.mkdtemp(prefix="firestop-bench."))
    env = {**os.environ, "FIRESTOP_MAINTENANCE_INTERVAL": "0"}
    if database_url:
        env["FIRESTOP_DATABASE_URL"] = database_url
        _cli(env, data_dir, "db", "upgrade")
    systems = data_dir / "inventory.yaml"
    systems.write_text(yaml.safe_dump(inventory()))
    _cli(env, data_dir, "inventory", "import", str(systems))
    token = _cli(env, data_dir, "token", "create", "--role", "telemetry", "--name", "bench")
    port = _free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "firestop",
            "--data-dir",
            str(data_dir),
            "serve",
            "--port",
            str(port),
            "--workers",
            str(workers),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 600
        while True:
            try:
                health = httpx.get(f"{url}/healthz", timeout=1)
                if health.status_code == 200 and health.json()["detectors"] == "ready":
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the server did not start")
            time.sleep(0.2)
        yield url, token.strip().splitlines()[-1], env
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        shutil.rmtree(data_dir, ignore_errors=True)


def encode_batches(records: list[dict[str, Any]], size: int) -> list[tuple[int, bytes]]:
    return [
        (len(chunk), gzip.compress(orjson.dumps(chunk), compresslevel=1))
        for chunk in (records[i : i + size] for i in range(0, len(records), size))
    ]


def run_load(
    url: str, token: str, batches: list[tuple[int, bytes]], clients: int
) -> dict[str, Any]:
    headers = {
        "Authorization": f"Bearer {token}",
        "content-type": "application/json",
        "content-encoding": "gzip",
    }
    latencies: list[float] = []
    totals = {"accepted": 0, "rejected": 0, "signals": 0, "errors": 0}
    lock = threading.Lock()
    queue = list(reversed(batches))

    def worker() -> None:
        with httpx.Client(timeout=120) as client:
            while True:
                with lock:
                    if not queue:
                        return
                    _, body = queue.pop()
                started = time.perf_counter()
                r = client.post(f"{url}/api/v1/interactions", content=body, headers=headers)
                elapsed = time.perf_counter() - started
                with lock:
                    latencies.append(elapsed)
                    if r.status_code != 200:
                        totals["errors"] += 1
                        continue
                    answer = r.json()
                    totals["accepted"] += answer["accepted"]
                    totals["rejected"] += len(answer["rejected"])
                    totals["signals"] += answer["signals"]

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    return {**totals, "wall": wall, "latencies": latencies}


def end_to_end(args: argparse.Namespace, db: str) -> dict[str, Any]:
    records = [item.record for item in generate(args.n, seed=args.seed)]
    size = sum(len(orjson.dumps(r)) for r in records[:2000]) / min(2000, len(records))
    batches = encode_batches(records, args.batch)
    context = postgres() if db == "postgres" else _nothing()
    with context as database_url, server(database_url, args.workers) as (url, token, _env):
        # One small batch first: compiles the patterns and warms the caches of each worker.
        run_load(url, token, encode_batches(records[:50], 50) * args.workers, 1)
        result = run_load(url, token, batches, args.clients)
    result.update(db=db, n=len(records), mean_record_bytes=size)
    return result


@contextmanager
def _nothing() -> Iterator[None]:
    yield None


def detectors_only(args: argparse.Namespace) -> None:
    """Per-detector cost, in-process: the shared scan, then each detector's own work."""
    from firestop.detect.base import Match, text_fields
    from firestop.detect.engine import ContentEngine
    from firestop.detect.pipeline import default_content_detectors
    from firestop.ledger.schemas import InteractionIn

    items = generate(args.n, seed=args.seed)
    records = [InteractionIn.model_validate(item.record) for item in items]
    by_slug = configs()
    engine = ContentEngine(default_content_detectors())
    fields = [list(text_fields(r)) for r in records]
    started = time.perf_counter()
    scanned = [engine.scanner.scan(f) for f in fields]
    scan_time = time.perf_counter() - started
    print(f"records: {len(records)}, engine: {engine.scanner.engine}")
    print(f"shared scan: {scan_time / len(records) * 1e6:.1f} µs per interaction")
    for detector in engine.detectors:
        started = time.perf_counter()
        for record, f, matches in zip(records, fields, scanned, strict=True):
            prefix = detector.id + ":"
            mine = [
                Match(m.pattern[len(prefix) :], m.field, m.start, m.end)
                for m in matches
                if m.pattern.startswith(prefix)
            ]
            detector.inspect(record, f, mine, by_slug[record.system])
        spent = time.perf_counter() - started
        print(f"  {detector.id:<20} {spent / len(records) * 1e6:6.1f} µs per interaction")
    started = time.perf_counter()
    for record in records:
        engine.run(record, by_slug[record.system])
    total = time.perf_counter() - started
    print(
        f"all content detectors: {total / len(records) * 1e6:.1f} µs per interaction "
        f"({len(records) / total:,.0f} interactions/s on one core)"
    )
    started = time.perf_counter()
    for item in items:
        InteractionIn.model_validate(item.record)
    print(f"validation: {(time.perf_counter() - started) / len(items) * 1e6:.1f} µs per record")
    if args.presidio:
        side_by_side(engine, records[: args.presidio], fields[: args.presidio], by_slug)


_PRESIDIO = """
import json, sys, time
sys.path.insert(0, sys.argv[1])
from bench import presidio_compare as pc
texts = json.load(open(sys.argv[2], encoding="utf-8"))
pc.analyzer()
started = time.perf_counter()
pc.presidio_entities(texts)
print(json.dumps({"seconds": time.perf_counter() - started, "version": pc.PRESIDIO_VERSION}))
"""


def side_by_side(engine: Any, records: Sequence[Any], fields: Sequence[Any], by_slug: Any) -> None:
    """Presidio's analyzer (pattern recognizers, no NLP model) on exactly the same texts.

    Every text field of the same interactions, repeats included, one text per ``analyze``
    call as a caller would make them; it runs in ``.venv-bench`` (see presidio_compare.py).
    """
    from firestop.detect.base import Match

    python = ROOT / ".venv-bench" / "bin" / "python"
    if not python.exists():
        print("Presidio: skipped, .venv-bench does not exist (see bench/presidio_compare.py)")
        return
    texts = [f.text for group in fields for f in group]
    with tempfile.TemporaryDirectory() as tmp:
        inbox = Path(tmp) / "texts.json"
        inbox.write_text(orjson.dumps(texts).decode(), encoding="utf-8")
        done = subprocess.run(
            [str(python), "-c", _PRESIDIO, str(ROOT), str(inbox)],
            capture_output=True,
            text=True,
            check=True,
        )
    theirs = orjson.loads(done.stdout.strip().splitlines()[-1])
    pii = next(d for d in engine.detectors if d.id == "pii")
    started = time.perf_counter()
    for record in records:
        engine.run(record, by_slug[record.system])
    ours = time.perf_counter() - started
    started = time.perf_counter()
    for record, group in zip(records, fields, strict=True):
        matches = [m for m in engine.scanner.scan(group) if m.pattern.startswith("pii:")]
        mine = [Match(m.pattern[4:], m.field, m.start, m.end) for m in matches]
        pii.inspect(record, group, mine, by_slug[record.system])
    ours_pii = time.perf_counter() - started
    n, t = len(records), len(texts)
    print(f"same texts: {n} interactions, {t} text fields")
    print(
        f"  Presidio {theirs['version']} analyzer: {theirs['seconds']:.2f} s = "
        f"{t / theirs['seconds']:,.0f} texts/s, {n / theirs['seconds']:,.0f} interactions/s"
    )
    print(
        f"  Firestop pii (scan + detector): {ours_pii:.2f} s = {t / ours_pii:,.0f} texts/s, "
        f"{n / ours_pii:,.0f} interactions/s"
    )
    print(
        f"  Firestop, all eight content detectors: {ours:.2f} s = {t / ours:,.0f} texts/s, "
        f"{n / ours:,.0f} interactions/s"
    )


def stages(args: argparse.Namespace) -> None:
    """Ingest in-process on a fresh SQLite database, with the time of each stage.

    The same code a request runs (``detect.pipeline.ingest`` then commit), batch by batch on
    one core, with the garbage collector tuned as a server process tunes it; each stage is
    timed by wrapping the function that does it.
    """
    import functools
    from collections import Counter

    from firestop import gctune
    from firestop.api import create_app
    from firestop.config import Settings
    from firestop.deps import ensure_pipeline
    from firestop.detect import pipeline as detect_pipeline

    data_dir = Path(tempfile.mkdtemp(prefix="firestop-bench."))
    try:
        env = {**os.environ, "FIRESTOP_MAINTENANCE_INTERVAL": "0"}
        systems = data_dir / "inventory.yaml"
        systems.write_text(yaml.safe_dump(inventory()))
        _cli(env, data_dir, "inventory", "import", str(systems))
        app = create_app(Settings(data_dir=data_dir, maintenance_interval=0))
        pipeline = ensure_pipeline(app)
        records = [item.record for item in generate(args.n + args.batch, seed=args.seed)]
        warm, records = records[: args.batch], records[args.batch :]
        with app.state.sessionmaker() as db:  # compiles nothing new; fills the caches
            detect_pipeline.ingest(db, pipeline, warm)
            db.commit()
        spent: Counter[str] = Counter()

        def timed(owner: Any, name: str, label: str) -> None:
            real = getattr(owner, name)

            @functools.wraps(real)
            def wrapper(*a: Any, **k: Any) -> Any:
                started = time.perf_counter()
                try:
                    return real(*a, **k)
                finally:
                    spent[label] += time.perf_counter() - started

            setattr(owner, name, wrapper)

        timed(detect_pipeline, "read_records", "parsing + validation")
        timed(detect_pipeline, "validate", "validation record by record")
        timed(pipeline.content, "run_many", "content detectors (scan + inspect)")
        timed(detect_pipeline.ledger, "store", "storing interactions")
        timed(detect_pipeline, "observe", "stream detectors")
        timed(detect_pipeline, "raise_hits", "raising signals (incl. routing)")
        timed(detect_pipeline, "deliver", "deliver (findings + signals)")
        # SQLite has one writer at a time: from a batch's turn to write until its commit,
        # every other process waits, so that span bounds throughput however many cores.
        turn_taken = [0.0]
        real_turn = detect_pipeline.writer_turn

        def turn(db: Any) -> None:
            real_turn(db)
            turn_taken[0] = time.perf_counter()

        detect_pipeline.writer_turn = turn  # type: ignore[assignment]
        gctune.tune_for_server()
        # The bodies as a client sends them (decompressed): the route parses them in ingest.
        batches = [
            orjson.dumps(records[i : i + args.batch]) for i in range(0, len(records), args.batch)
        ]
        started, cpu = time.perf_counter(), time.process_time()
        writing = 0.0
        for body in batches:
            with app.state.sessionmaker() as db:
                items = detect_pipeline.read_records(body, "application/json")
                detect_pipeline.ingest(db, pipeline, items)
                commit = time.perf_counter()
                db.commit()
                spent["commit"] += time.perf_counter() - commit
                writing += time.perf_counter() - turn_taken[0]
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
        n = len(records)
        print(
            f"in-process ingest, SQLite, batches of {args.batch}: {n:,} interactions in "
            f"{wall:.2f} s = {n / wall:,.0f}/s on one core ({wall / n * 1e6:.0f} µs each, "
            f"CPU {cpu / n * 1e6:.0f} µs)"
        )
        for label, seconds in sorted(spent.items(), key=lambda kv: -kv[1]):
            print(f"  {label:<36} {seconds / n * 1e6:7.1f} µs per interaction")
        print(
            f"  holding SQLite's write lock (first write → commit): {writing / n * 1e6:.1f} µs "
            f"per interaction, so at most {n / writing:,.0f}/s however many processes"
        )
        app.state.engine.dispose()
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--detectors-only", action="store_true")
    parser.add_argument("--stages", action="store_true", help="in-process, time per stage")
    parser.add_argument(
        "--presidio",
        type=int,
        default=0,
        metavar="N",
        help="with --detectors-only: Presidio's analyzer on the first N interactions' texts",
    )
    args = parser.parse_args()
    if args.detectors_only:
        detectors_only(args)
        return
    if args.stages:
        stages(args)
        return
    for db in ("sqlite", "postgres") if args.db == "both" else (args.db,):
        r = end_to_end(args, db)
        lat = r["latencies"]
        print(
            f"{db}: {r['accepted']:,} interactions of ~{r['mean_record_bytes']:,.0f} bytes in "
            f"{r['wall']:.1f} s = {r['accepted'] / r['wall']:,.0f} interactions/s; "
            f"{r['signals']:,} signal updates; rejected {r['rejected']}, errors {r['errors']}; "
            f"ingest→signal p50 {statistics.median(lat) * 1000:.0f} ms, "
            f"p99 {_percentile(lat, 0.99) * 1000:.0f} ms "
            f"(batches of {args.batch}, {args.clients} clients, {args.workers} server processes)"
        )


if __name__ == "__main__":
    main()
