"""Store benchmark: a workspace with 100k tasks and 1M annotations, on SQLite and PostgreSQL.

Prints the time to build it, the board (counts per status + 5 columns of 10 cards), the first
list page of 50 (with its total), a text search, and one annotation save (p50/p95) taken as a
user action through the workspace handle (transaction, permission check, versioned update,
audit event). Run: ``python bench/store.py [--tasks N] [--backend sqlite|postgresql|both]``.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
from sqlalchemy import insert, select

import annotation_kit as ak
from annotation_kit.access.workflow import Status
from annotation_kit.store.models import Annotation, Dataset, Task, TaskDataset, TaskMember, User

PG = "postgresql://postgres@127.0.0.1:5432/test"
SECOND = 1_000_000_000
BATCH = 20_000


def build(ws: ak.Workspace, n_tasks: int, per_task: int) -> None:
    rng = random.Random(1)
    ws.users.create("ann", "annotator")
    ws.users.create("rita", "reviewer")
    with ws.transaction(write=False) as s:
        ann, rita, ada = (
            s.scalar(select(User.id).where(User.name == n)) for n in ("ann", "rita", "ada")
        )
    now = datetime.now(UTC)
    statuses = list(Status)
    words = ["pick", "place", "cube", "bowl", "drawer", "mug", "wipe", "stack", "sort", "push"]
    for first in range(0, n_tasks, BATCH // 2):
        ids = range(first + 1, min(first + BATCH // 2, n_tasks) + 1)
        with ws.transaction() as s:
            s.execute(
                insert(Dataset),
                [
                    {
                        "id": i,
                        "name": f"ep{i}",
                        "source_uri": f"bench://{i}.mcap",
                        "format": "mcap",
                        "duration_ns": 60 * SECOND,
                        "start_time_ns": 0,
                        "streams": [],
                        "cameras": [],
                        "size_bytes": 0,
                        "robot": "",
                        "tags": [],
                        "meta": {},
                        "created_at": now,
                    }
                    for i in ids
                ],
            )
            s.execute(
                insert(Task),
                [
                    {
                        "id": i,
                        "name": f"{rng.choice(words)} {rng.choice(words)} {i}",
                        "description": "",
                        "creator_id": ada,
                        "status": rng.choice(statuses),
                        "review_round": 1,
                        "created_at": now - timedelta(seconds=n_tasks - i),
                        "updated_at": now,
                        "version": 1,
                    }
                    for i in ids
                ],
            )
            s.execute(insert(TaskDataset), [{"task_id": i, "dataset_id": i} for i in ids])
            s.execute(
                insert(TaskMember),
                [
                    {"task_id": i, "user_id": u, "duty": d}
                    for i in ids
                    for u, d in ((ann, "annotator"), (rita, "reviewer"))
                ],
            )
            s.execute(
                insert(Annotation),
                [
                    {
                        "task_id": i,
                        "dataset_id": i,
                        "author_id": ann,
                        "kind": "segment",
                        "start_ns": k * SECOND,
                        "end_ns": (k + 1) * SECOND,
                        "labels": [],
                        "description": "",
                        "attributes": {},
                        "provenance": "human",
                        "valid": True,
                        "created_at": now,
                        "updated_at": now,
                        "version": 1,
                    }
                    for i in ids
                    for k in range(per_task)
                ],
            )
    if ws.db.dialect == "postgresql":
        with ws.db.engine.connect() as conn:
            for table in ("datasets", "tasks"):  # ids were given explicitly
                conn.exec_driver_sql(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {n_tasks})"
                )
            conn.commit()
        # what autovacuum does on a live server: statistics and the visibility map
        with ws.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
    else:
        with ws.db.engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")


def timed(fn, repeat: int) -> list[float]:
    fn()  # warm caches
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        out.append((time.perf_counter() - start) * 1000)
    return out


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1]


def run(backend: str, n_tasks: int, per_task: int) -> None:
    tmp = None
    if backend == "sqlite":
        tmp = tempfile.TemporaryDirectory()
        url = f"sqlite:///{Path(tmp.name) / 'workspace.db'}"
    else:
        schema = f"bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(PG, autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {schema}")
        url = f"{PG}?options=-csearch_path%3D{schema}"
    try:
        ws = ak.connect(url, user="ada")
        start = time.perf_counter()
        build(ws, n_tasks, per_task)
        built = time.perf_counter() - start
        maya = ws
        board = timed(lambda: maya.task_queries.board(per_status=10), 30)
        page = timed(lambda: maya.task_queries.list_tasks(page_size=50), 30)
        search = timed(lambda: maya.task_queries.list_tasks(search="drawer mug", page_size=50), 10)
        ann = ws.as_user("ann")
        mine = timed(lambda: ann.task_queries.board(per_status=10), 30)  # on all 100k tasks
        ws.users.create("alex", "annotator")  # an annotator on 200 of them: the usual case
        with ws.transaction() as s:
            alex = s.scalar(select(User.id).where(User.name == "alex"))
            picked = random.Random(2).sample(range(1, n_tasks + 1), min(200, n_tasks))
            s.execute(
                insert(TaskMember),
                [{"task_id": i, "user_id": alex, "duty": "annotator"} for i in picked],
            )
        few = ws.as_user("alex")
        usual = timed(lambda: few.task_queries.board(per_status=10), 30)
        task = ws.task_queries.list_tasks(status="in_progress", page_size=1).items[0]
        target = ann.annotations.list_annotations(task.id)[0]
        version = target.version
        saves = []
        for i in range(300):
            begin = time.perf_counter()
            saved = ann.annotations.update(
                target.id, expected_version=version, description=f"edit {i}"
            )
            saves.append((time.perf_counter() - begin) * 1000)
            version = saved.version
        adds = timed(
            lambda: ann.annotations.add(task.id, target.dataset_id, start_ns=0, end_ns=SECOND), 100
        )
        print(
            f"{backend:>10} | {n_tasks:,} tasks, {n_tasks * per_task:,} annotations "
            f"built in {built:.1f} s"
        )
        print(
            f"{'':>10} | board (counts + 5x10 cards)   p50 {pct(board, 50):6.1f} ms  "
            f"p95 {pct(board, 95):6.1f} ms"
        )
        print(
            f"{'':>10} | board of one on 200 tasks     p50 {pct(usual, 50):6.1f} ms  "
            f"p95 {pct(usual, 95):6.1f} ms"
        )
        print(
            f"{'':>10} | board of one on every task    p50 {pct(mine, 50):6.1f} ms  "
            f"p95 {pct(mine, 95):6.1f} ms"
        )
        print(
            f"{'':>10} | list page 1 of 50 (+ total)   p50 {pct(page, 50):6.1f} ms  "
            f"p95 {pct(page, 95):6.1f} ms"
        )
        print(
            f"{'':>10} | text search, page of 50       p50 {pct(search, 50):6.1f} ms  "
            f"p95 {pct(search, 95):6.1f} ms"
        )
        print(
            f"{'':>10} | annotation save (update)      p50 {pct(saves, 50):6.1f} ms  "
            f"p95 {pct(saves, 95):6.1f} ms"
        )
        print(
            f"{'':>10} | annotation add                p50 {pct(adds, 50):6.1f} ms  "
            f"p95 {pct(adds, 95):6.1f} ms"
        )
        ws.close()
    finally:
        if tmp:
            tmp.cleanup()
        else:
            with psycopg.connect(PG, autocommit=True) as conn:
                conn.execute(f"DROP SCHEMA {schema} CASCADE")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--annotations-per-task", type=int, default=10)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    args = parser.parse_args()
    print(f"annotation_kit {ak.__version__}, Python {sys.version.split()[0]}")
    for backend in ("sqlite", "postgresql") if args.backend == "both" else (args.backend,):
        run(backend, args.tasks, args.annotations_per_task)


if __name__ == "__main__":
    main()
