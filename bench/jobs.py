"""Job queue benchmark: 10k no-op jobs through annotation_kit's layer beside huey alone, and a
1,000-job batch retry.

Both sides use the same huey storage (a fresh SQLite queue file, or Redis with ``--redis``) and
the same consumer: huey's own, with ``--workers`` threads, run in this process. Throughput is
jobs enqueued and run per second, from the first enqueue until the last job finished; the two
phases (enqueue, then run once the consumer starts) are printed apart.
- huey alone: a no-op ``@huey.task`` called 10k times (huey has no bulk enqueue: one write to
  the broker per job; and for each message it runs, a revocation check and a delete);
- huey as transport: huey as annotation_kit sets it up (revocation left out, since cancelling
  is the ledger's; the 10k messages in one write), without the ledger — the difference to the
  next row is what the ledger costs;
- annotation_kit: ``ws.queue.enqueue_many("noop", ...)`` — ledger rows in multi-row inserts and
  the messages in one write to the broker; then each job claimed (pause check and conditional
  update in one statement), run as its owner, and finished, in the ledger of an SQLite
  workspace.
Then 1,000 jobs are marked failed and ``ws.queue.retry_failed()`` is timed (the call itself,
and until all 1,000 ran again). Goal from the issue: our layer >= 0.8x huey alone.
Run: ``python bench/jobs.py [--jobs 10000] [--workers 4] [--redis]``.
"""

from __future__ import annotations

import argparse
import functools
import tempfile
import threading
import time
from pathlib import Path

from sqlalchemy import update

import annotation_kit as ak
from annotation_kit import jobs
from annotation_kit.jobs import broker as queue
from annotation_kit.store.models import Job


def consumer(huey, workers: int):
    from huey.consumer import Consumer

    instance = Consumer(
        huey,
        workers=workers,
        worker_type="thread",
        periodic=False,
        initial_delay=0.01,
        backoff=1.1,
        max_delay=0.05,
    )
    instance._set_signal_handlers = lambda: None  # (signals are for a main thread)
    thread = threading.Thread(target=instance.run, daemon=True)
    return instance, thread


def huey_alone(queue_url: str, n: int, workers: int, *, as_transport: bool = False) -> tuple:
    """huey's own no-op task; ``as_transport``: huey set up as annotation_kit uses it (no
    revocation checks, one write to the broker for the whole batch), without the ledger."""
    from huey import RedisHuey, SqliteHuey
    from huey.signals import SIGNAL_COMPLETE

    name = "bench-transport" if as_transport else "bench-alone"
    if as_transport:
        sqlite, redis = queue._storages()
        storage = redis if queue_url.startswith("redis://") else sqlite
        huey_class = functools.partial(queue._transport(), storage_class=storage)
    else:
        huey_class = RedisHuey if queue_url.startswith("redis://") else SqliteHuey
    if queue_url.startswith("redis://"):
        huey = huey_class(name, url=queue_url, results=False)
    else:
        huey = huey_class(name, filename=queue_url.removeprefix("sqlite:///"), results=False)
    huey.flush()
    done = threading.Semaphore(0)

    @huey.task()
    def noop() -> None:
        return None

    @huey.signal(SIGNAL_COMPLETE)
    def completed(signal, task, *args) -> None:
        done.release()

    instance, thread = consumer(huey, workers)
    start = time.perf_counter()
    if as_transport:
        huey.storage.enqueue_many([huey.serialize_task(noop.s()) for _ in range(n)])
    else:
        for _ in range(n):
            noop()
    queued = time.perf_counter()
    thread.start()
    for _ in range(n):
        done.acquire()
    end = time.perf_counter()
    instance.stop(graceful=True)
    return end - start, queued - start, end - queued


def ours(ws: ak.Workspace, queue_url: str, n: int, workers: int) -> float:
    from huey.signals import SIGNAL_COMPLETE

    from annotation_kit.jobs.worker import execute

    queue.serve_with(execute)  # this process runs the jobs, as a worker does
    huey, _run = queue.engine(queue_url)
    huey.flush()
    done = threading.Semaphore(0)

    @huey.signal(SIGNAL_COMPLETE)
    def completed(signal, task, *args) -> None:
        done.release()

    instance, thread = consumer(huey, workers)
    jobs_queue = ws.queue_for(queue_url)
    start = time.perf_counter()
    jobs_queue.enqueue_many("noop", [{}] * n)
    queued = time.perf_counter()
    thread.start()
    for _ in range(n):
        done.acquire()
    end = time.perf_counter()
    counts = jobs_queue.status()["counts"]
    assert counts["completed"] >= n, counts
    retry_call, retry_all = batch_retry(ws, jobs_queue, done)
    instance.stop(graceful=True)
    return (end - start, queued - start, end - queued), retry_call, retry_all


def batch_retry(ws, jobs_queue, done) -> tuple[float, float]:
    with ws.transaction() as session:
        ids = [j.id for j in jobs.list_jobs(session, state="completed", limit=1000)]
        session.execute(update(Job).where(Job.id.in_(ids)).values(state="failed", error="x"))
    start = time.perf_counter()
    count = jobs_queue.retry_failed()
    call = time.perf_counter() - start
    for _ in range(count):
        done.acquire()
    return call, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--redis", action="store_true", help="Redis queue instead of SQLite")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        ws = ak.connect(f"sqlite:///{tmp}/ws.db", user="ada")
        if args.redis:
            alone_url = ours_url = "redis://127.0.0.1:6379/15"
        else:
            alone_url, ours_url = f"sqlite:///{tmp}/alone.db", f"sqlite:///{Path(tmp)}/queue.db"
        alone = huey_alone(alone_url, args.jobs, args.workers)
        transport_url = alone_url.replace("alone.db", "transport.db")
        transport = huey_alone(transport_url, args.jobs, args.workers, as_transport=True)
        mine, retry_call, retry_all = ours(ws, ours_url, args.jobs, args.workers)
    broker = "Redis" if args.redis else "SQLite queue file"
    print(f"{args.jobs:,} no-op jobs, {args.workers} worker threads, {broker}, SQLite ledger")
    print("                        total            enqueue   run (consumers)")
    rows = (("huey alone", alone), ("huey as transport", transport), ("annotation_kit", mine))
    for name, (total, queued, ran) in rows:
        print(
            f"  {name:<18} {total:6.2f} s {args.jobs / total:7,.0f} jobs/s  "
            f"{queued:5.2f} s   {ran:5.2f} s"
        )
    for name, base, goal in (
        ("huey alone", alone, "  (goal >= 0.8 x)"),
        ("transport", transport, ""),
    ):
        print(
            f"  annotation_kit / {name:<10}: total {base[0] / mine[0]:4.2f} x{goal}, "
            f"enqueue {base[1] / mine[1]:4.2f} x, run {base[2] / mine[2]:4.2f} x"
        )
    print(
        f"  batch retry of 1,000 failed jobs: the call {retry_call * 1e3:6.0f} ms, "
        f"all run again in {retry_all:5.2f} s"
    )


if __name__ == "__main__":
    main()
