"""A task's statistics (per skill, label, annotator and provenance: what every task-detail
refresh shows) on one task holding a million annotations, on SQLite and PostgreSQL.

The annotations are written in bulk: two skills, four label sets, a tenth imported, a seventh
invalid. Prints the time of ``progress.statistics`` (best of 3) and checks its label counts.
Run: ``python bench/task_statistics.py [--annotations 1000000]``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import uuid

from sqlalchemy import create_engine, insert, text

import annotation_kit as ak
from annotation_kit.store import models
from annotation_kit.work import progress

POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
LABELS = [[], ["cup"], ["cup", "red"], ["bowl"]]


def run(url: str, n: int) -> float:
    ws = ak.connect(url, user="ada")
    ws.users.create("ann", "annotator")
    for name in ("pick", "place"):
        ws.skills.create(name)
    episode = ws.datasets.register(
        name="long", source_uri="file:///long.mcap", format="mcap", duration_ns=10**12
    )
    task = ws.tasks.create("big", datasets=[episode.id], annotators=["ann"]).id
    with ws.transaction() as session:
        ann = ws.as_user("ann").me(session).id
        skills = [s.id for s in ws.skills.list_skills()]
        for start in range(0, n, 50_000):
            rows = [
                {
                    "task_id": task,
                    "dataset_id": episode.id,
                    "author_id": ann,
                    "kind": "segment",
                    "start_ns": i,
                    "end_ns": i + 1,
                    "skill_id": skills[i % 2],
                    "skill_version": 1,
                    "labels": LABELS[i % 4],
                    "description": "",
                    "attributes": {},
                    "provenance": "human" if i % 10 else "import",
                    "valid": bool(i % 7),
                    "version": 1,
                }
                for i in range(start, min(n, start + 50_000))
            ]
            session.execute(insert(models.Annotation), rows)
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        with ws.transaction(write=False) as session:
            found = progress.statistics(session, task)
        best = min(best, time.perf_counter() - start)
    valid = sum(1 for i in range(n) if i % 7)
    assert found.annotations == n and found.invalid == n - valid
    assert found.per_label["cup"] == sum(1 for i in range(n) if i % 7 and i % 4 in (1, 2))
    ws.close()
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--annotations", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        seconds = run(f"sqlite:///{tmp}/workspace.db", args.annotations)
    print(f"    sqlite | {args.annotations:,} annotations in one task: {seconds:.2f} s")
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        seconds = run(f"{POSTGRES}?options=-csearch_path%3D{schema}", args.annotations)
        print(
            f"postgresql | {args.annotations:,} annotations in one task: statistics {seconds:.2f} s"
        )
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))


if __name__ == "__main__":
    main()
