"""Export benchmark: LeRobot v3.0 export throughput beside a bare pyarrow write of the same
frames, and the peak memory of a 1,000-episode export.

The source is a generated LeRobot v3.0 dataset (signals only, so both sides move the same
numbers): ``--episodes`` episodes of ``--frames`` frames at 30 Hz, imported into a fresh SQLite
workspace and put in one task that passed review. Then:
- annotation_kit: ``ws.export(task, "lerobot")`` at the same rate (plan, read every episode,
  resample, stats, write parquet with a row group per episode, meta, manifest, move into place);
- bare pyarrow: read a table and write it back with one row group per episode, twice: the
  source's columns, and the exported file's columns (the same frames as written, with the
  language columns and ``subtask_index``): the floor any writer of that output pays.
Peak memory is the export process's maximum resident set (``ru_maxrss``), measured in a child
process that does only the export. Goal from the issue: throughput ≥ 0.5× the bare write.
Run: ``python bench/export.py [--episodes 1000] [--frames 300]``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow.parquet as pq

import annotation_kit as ak
from annotation_kit import synthetic

CHILD = """
import json, resource, sys, time
import annotation_kit as ak
url, task, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
ws = ak.connect(url, user="ada")
start = time.perf_counter()
record = ws.export(task, "lerobot", out, options={"rate_hz": 30, "cameras": "none"})
seconds = time.perf_counter() - start
print(json.dumps({"seconds": seconds, "frames": record.counts["frames"],
                  "size": record.size_bytes,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=1000)
    parser.add_argument("--frames", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        source = synthetic.write_lerobot_v30(
            tmp_path / "source", episodes=args.episodes, frames=args.frames, fps=30.0
        )
        url = f"sqlite:///{tmp}/ws.db"
        ws = ak.connect(url, user="ada")
        start = time.perf_counter()
        ids = ws.import_datasets(source, progress=False).dataset_ids
        imported = time.perf_counter() - start
        task = ws.tasks.create("bench", datasets=ids, annotators=["ada"], reviewers=["ada"])
        ws.tasks.start(task.id)
        for dataset in ids:
            ws.annotations.add(task.id, dataset, start_ns=0, end_ns=10**9, description="reach")
        ws.tasks.submit(task.id)
        ws.tasks.approve(task.id)
        baseline = bare_write(source / "data/chunk-000/file-000.parquet", tmp_path / "bare.parquet")
        child = subprocess.run(
            [sys.executable, "-c", CHILD, url, str(task.id), str(tmp_path / "export")],
            capture_output=True,
            text=True,
            check=True,
        )
        result = json.loads(child.stdout.strip().splitlines()[-1])
        # the same frames as the export wrote them (language columns, subtask_index included)
        same = bare_write(tmp_path / "export/data/chunk-000/file-000.parquet", tmp_path / "b2")
    frames = result["frames"]
    ours = frames / result["seconds"]
    bare = frames / baseline
    print(f"{args.episodes} episodes x {args.frames} frames ({frames:,} frames), signals only")
    print(f"  import (index)            {imported:7.2f} s")
    print(
        f"  annotation_kit export     {result['seconds']:7.2f} s  {ours:10,.0f} frames/s  "
        f"({result['size'] / 1e6:.1f} MB)"
    )
    print(
        f"  bare pyarrow read+write, source columns   {baseline:6.2f} s {bare:10,.0f} frames/s"
        f"  ratio {ours / bare:4.2f} x"
    )
    print(
        f"  bare pyarrow read+write, exported columns {same:6.2f} s {frames / same:10,.0f} "
        f"frames/s  ratio {ours / (frames / same):4.2f} x  (goal >= 0.5 x)"
    )
    print(f"  peak memory of the export {result['peak_mb']:7.0f} MB")


def bare_write(source: Path, out: Path) -> float:
    """Read the frames and write them back with one row group per episode."""
    start = time.perf_counter()
    table = pq.read_table(source)
    with pq.ParquetWriter(out, table.schema) as writer:
        episodes = table.column("episode_index").to_numpy()
        bounds = [
            0,
            *(i for i in range(1, len(episodes)) if episodes[i] != episodes[i - 1]),
            len(episodes),
        ]
        for a, b in itertools.pairwise(bounds):
            writer.write_table(table.slice(a, b - a), row_group_size=b - a)
    return time.perf_counter() - start


if __name__ == "__main__":
    main()
