"""The project reports and the overview's queries at 100k tasks / 1M annotations: through
``ws.analytics`` (DuckDB attached to the store) beside the same questions asked through
SQLAlchemy on the store itself, on SQLite and on PostgreSQL.

The workspace is written in bulk (SQLAlchemy Core, not the services): 120 people, 50k
one-minute episodes over a year, 100k tasks of two episodes with one annotator and one
reviewer each, 10 annotations per task (9 segments over 8 skills and an episode verdict), a
first review per task (30 % rejected, then passed in round 2) and the submissions before them.

DuckDB answers from its columnar copy of the workspace while nobody changed it, and through
views of the workspace itself (on SQLite, of a snapshot taken then) while a new copy is taken in
the background; the main figures are
for a workspace at rest (best of 3, after one untimed run, once the copy is current), and the
team report right after a write (the views) and the time a new copy takes are printed apart.

Questions:
- *team report*: per annotator, annotations, segments, episodes and hours annotated, tasks
  reviewed and the first-pass rate (``analytics.team()``);
- *overview*: tasks per status, segments and mean length per skill, hours per month and format
  (``analytics.sql``, ``analytics.skills()``, ``analytics.volume()``).
Goal: each ≤ 300 ms through DuckDB and ≥ 5× faster than the store path.
Run: ``python bench/analytics.py [--tasks 100000] [--backend sqlite|postgresql|both]``.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import case, func, insert, literal_column, select

import annotation_kit as ak
from annotation_kit.store import models as m

PG = "postgresql://postgres@127.0.0.1:5432/test"
SECOND = 1_000_000_000
SKILLS = ("reach", "grasp", "lift", "move", "place", "release", "push", "wipe")
CHUNK = 50_000


def build(ws: ak.Workspace, n_tasks: int, seed: int = 7) -> None:
    """Write the workspace in bulk."""
    rng = random.Random(seed)
    start = datetime(2025, 11, 1, tzinfo=UTC)
    with ws.db.engine.begin() as conn:
        admin = conn.execute(select(m.User.id)).scalar_one()
        people = [{"name": f"ann{i}", "role": "annotator"} for i in range(100)]
        people += [{"name": f"rev{i}", "role": "reviewer"} for i in range(20)]
        conn.execute(insert(m.User), people)
        ids = dict(conn.execute(select(m.User.name, m.User.id)).all())
        annotators = [ids[f"ann{i}"] for i in range(100)]
        reviewers = [ids[f"rev{i}"] for i in range(20)]
        conn.execute(insert(m.Skill), [{"name": s} for s in SKILLS])
        skill_ids = list(dict(conn.execute(select(m.Skill.name, m.Skill.id)).all()).values())
        n_sets = max(1, n_tasks // 2)
        put(conn, m.Dataset, (
            {"name": f"ep{i}", "source_uri": f"bench://{i}.mcap",
             "format": "mcap" if i % 3 else "hdf5", "duration_ns": 60 * SECOND,
             "created_at": start + timedelta(minutes=i * 525_600 // n_sets)}
            for i in range(n_sets)
        ))  # fmt: skip
        first_set = conn.execute(select(func.min(m.Dataset.id))).scalar_one()
        statuses = ["pending", "in_progress", "pending_review", "review_passed", "data_submitted"]
        put(conn, m.Task, (
            {"name": f"task {i}", "creator_id": admin, "status": statuses[i % 5],
             "review_round": 1, "version": 1, "created_at": start + timedelta(minutes=5 * i)}
            for i in range(n_tasks)
        ))  # fmt: skip
        first_task = conn.execute(select(func.min(m.Task.id))).scalar_one()
        tasks = range(first_task, first_task + n_tasks)
        put(conn, m.TaskMember, (
            row for k, t in enumerate(tasks) for row in (
                {"task_id": t, "user_id": annotators[k % 100], "duty": "annotator"},
                {"task_id": t, "user_id": reviewers[k % 20], "duty": "reviewer"})
        ))  # fmt: skip
        put(conn, m.TaskDataset, (
            {"task_id": t, "dataset_id": first_set + (2 * k + j) % n_sets}
            for k, t in enumerate(tasks) for j in (0, 1)
        ))  # fmt: skip

        def notes():
            for k, t in enumerate(tasks):
                author, dataset = annotators[k % 100], first_set + (2 * k) % n_sets
                yield {
                    "task_id": t,
                    "dataset_id": dataset,
                    "author_id": author,
                    "kind": "episode",
                    "version": 1,
                }
                for j in range(9):
                    begin = j * 6 * SECOND + rng.randrange(SECOND)
                    yield {
                        "task_id": t,
                        "dataset_id": dataset + (j % 2)
                        if dataset + 1 < first_set + n_sets
                        else dataset,
                        "author_id": author,
                        "kind": "segment",
                        "start_ns": begin,
                        "end_ns": begin + rng.randrange(2 * SECOND, 5 * SECOND),
                        "skill_id": skill_ids[(j + k) % len(skill_ids)],
                        "version": 1,
                    }

        put(conn, m.Annotation, notes())  # fmt: skip

        def decisions():
            for k, t in enumerate(tasks):
                when = start + timedelta(minutes=5 * k + 60)
                rejected = rng.random() < 0.3
                yield (
                    "review",
                    {
                        "task_id": t,
                        "round": 1,
                        "reviewer_id": reviewers[k % 20],
                        "decision": "reject" if rejected else "pass",
                        "created_at": when,
                    },
                )
                yield (
                    "event",
                    {
                        "object_type": "task",
                        "object_id": t,
                        "action": "submit",
                        "to_state": "pending_review",
                        "at": when - timedelta(minutes=30),
                    },
                )
                if rejected:
                    yield (
                        "review",
                        {
                            "task_id": t,
                            "round": 2,
                            "reviewer_id": reviewers[k % 20],
                            "decision": "pass",
                            "created_at": when + timedelta(hours=3),
                        },
                    )

        rows = list(decisions())
        put(conn, m.Review, (r for kind, r in rows if kind == "review"))
        put(conn, m.Event, (r for kind, r in rows if kind == "event"))


def put(conn: Any, model: type, rows: Any) -> None:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == CHUNK:
            conn.execute(insert(model), batch)
            batch = []
    if batch:
        conn.execute(insert(model), batch)


def store_team(ws: ak.Workspace) -> Any:
    """The team report through SQLAlchemy on the store: three aggregate queries."""
    a = m.Annotation
    with ws.transaction(write=False) as s:
        counts = s.execute(
            select(
                a.author_id, func.count(), func.sum(case((a.kind == "segment", 1), else_=0))
            ).group_by(a.author_id)
        ).all()
        pairs = select(a.author_id, a.task_id, a.dataset_id).distinct().subquery()
        hours = s.execute(
            select(pairs.c.author_id, func.count(), func.sum(m.Dataset.duration_ns))
            .join(m.Dataset, m.Dataset.id == pairs.c.dataset_id)
            .group_by(pairs.c.author_id)
        ).all()
        first = (
            select(
                m.Review.task_id,
                func.max(case((m.Review.decision == "reject", 1), else_=0)).label("bad"),
            )
            .where(m.Review.round == 1)
            .group_by(m.Review.task_id)
            .subquery()
        )
        passed = s.execute(
            select(m.TaskMember.user_id, func.count(), func.sum(1 - first.c.bad))
            .join(first, first.c.task_id == m.TaskMember.task_id)
            .where(m.TaskMember.duty == "annotator")
            .group_by(m.TaskMember.user_id)
        ).all()
    return counts, hours, passed


def store_overview(ws: ak.Workspace) -> Any:
    """The overview's questions through SQLAlchemy on the store."""
    a, d = m.Annotation, m.Dataset
    month = (
        func.strftime("%Y-%m", d.created_at)
        if ws.db.engine.dialect.name == "sqlite"
        else func.to_char(d.created_at, "YYYY-MM")
    )
    with ws.transaction(write=False) as s:
        statuses = s.execute(select(m.Task.status, func.count()).group_by(m.Task.status)).all()
        skills = s.execute(
            select(a.skill_id, func.count(), func.avg(a.end_ns - a.start_ns))
            .where(a.kind == "segment")
            .group_by(a.skill_id)
        ).all()
        volume = s.execute(
            select(month.label("month"), d.format, func.count(), func.sum(d.duration_ns)).group_by(
                literal_column("month"), d.format
            )
        ).all()
    return statuses, skills, volume


def duck_overview(ws: ak.Workspace) -> Any:
    analytics = ws.analytics
    return (
        analytics.sql("SELECT status, count(*) AS n FROM tasks GROUP BY status"),
        analytics.skills(),
        analytics.volume(by="format", period="month"),
    )


def best(fn: Callable[[], Any], runs: int = 3) -> float:
    fn()  # warm
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times) * 1000


def run(backend: str, n_tasks: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        schema = None
        if backend == "sqlite":
            url = f"sqlite:///{Path(tmp) / 'workspace.db'}"
        else:
            schema = f"akbench_{uuid.uuid4().hex[:8]}"
            with psycopg.connect(PG, autocommit=True) as conn:
                conn.execute(f"CREATE SCHEMA {schema}")
            url = f"{PG}?options=-csearch_path%3D{schema}"
        try:
            ws = ak.connect(url, user="admin")
            t0 = time.perf_counter()
            build(ws, n_tasks)
            built = time.perf_counter() - t0
            with ws.transaction(write=False) as s:
                n_notes = s.scalar(select(func.count()).select_from(m.Annotation))
            t0 = time.perf_counter()
            ws.analytics.team()  # through the views; the first copy starts in the background
            first = (time.perf_counter() - t0) * 1000
            t0 = time.perf_counter()
            assert ws.analytics.ready(timeout=600)
            copied = time.perf_counter() - t0
            print(
                f"{backend}: {n_tasks:,} tasks, {n_notes:,} annotations "
                f"(written in {built:.0f} s); first team report {first:.0f} ms (attach + "
                f"views), the columnar copy ready {copied:.1f} s later"
            )
            for label, duck, store in (
                ("team report", ws.analytics.team, lambda: store_team(ws)),
                ("overview", lambda: duck_overview(ws), lambda: store_overview(ws)),
            ):
                fast, slow = best(duck), best(store)
                print(
                    f"  {label:12} DuckDB {fast:8.1f} ms   store (SQLAlchemy) {slow:8.1f} ms   "
                    f"{slow / fast:5.1f}x"
                )
            after, recopy = [], []
            for i in range(3):  # someone saves: reports read the views until a new copy is in
                with ws.db.engine.begin() as conn:
                    conn.execute(
                        m.Task.__table__.update()
                        .where(m.Task.id == 1 + i)
                        .values(description=f"edited {i}")
                    )
                t0 = time.perf_counter()
                ws.analytics.team()
                after.append((time.perf_counter() - t0) * 1000)
                t0 = time.perf_counter()
                assert ws.analytics.ready(timeout=600)
                recopy.append(time.perf_counter() - t0)
            print(
                f"  team report right after a write (views): {min(after):.0f} ms; "
                f"new copy ready {min(recopy):.1f} s later"
            )
            ws.close()
        finally:
            if schema:
                with psycopg.connect(PG, autocommit=True) as conn:
                    conn.execute(f"DROP SCHEMA {schema} CASCADE")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    args = parser.parse_args()
    for backend in ("sqlite", "postgresql") if args.backend == "both" else (args.backend,):
        run(backend, args.tasks)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
