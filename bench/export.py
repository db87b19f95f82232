"""Export benchmark: LeRobot v3.0 export throughput beside a bare pyarrow write of the same
frames, at several shapes, and the export's peak memory.

The source is a generated LeRobot v3.0 dataset (signals only, so both sides move the same
numbers): ``--episodes`` episodes of ``--frames`` frames at 30 Hz, imported into a fresh SQLite
workspace and put in one task that passed review. Then:
- annotation_kit: ``ws.export(task, "lerobot")`` at the same rate (plan, read every episode,
  resample, stats, write parquet with a row group per episode, meta, manifest, move into place);
- bare pyarrow: read a table and write it back with one row group per episode, twice: the
  source's columns, and the exported file's columns (the same frames as written, with the
  language columns and ``subtask_index``): the floor any writer of that output pays.
Both sides run in fresh processes, twice each: *cold* is the first call in a new process (it
pays the first use of pyarrow, numpy and pandas modules: a script's one export), *warm* the
second (a notebook's next export). Ratios compare cold with cold and warm with warm. Peak memory
is the export process's maximum resident set (``ru_maxrss``). Goal from issue 13: ≥ 0.5× the
bare write of the exported columns at 1,000 × 300, 200 × 1,800, 200 × 300 and 50 × 300.
Run: ``python bench/export.py [--shapes 1000x300,200x1800,200x300,50x300]``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import annotation_kit as ak
from annotation_kit.data import synthetic

CHILD = """
import json, resource, sys, time
import annotation_kit as ak
url, task, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
ws = ak.connect(url, user="ada")
seconds = []
for run in ("", "-warm"):
    start = time.perf_counter()
    record = ws.export(task, "lerobot", out + run, options={"rate_hz": 30, "cameras": "none"})
    seconds.append(time.perf_counter() - start)
print(json.dumps({"seconds": seconds, "frames": record.counts["frames"],
                  "size": record.size_bytes,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""
BARE = """
import itertools, json, sys, time
start = time.perf_counter()
import pyarrow.parquet as pq
def write(source, out):
    table = pq.read_table(source)
    with pq.ParquetWriter(out, table.schema) as writer:
        episodes = table.column("episode_index").to_numpy()
        cuts = [0, *(i for i in range(1, len(episodes)) if episodes[i] != episodes[i - 1]),
                len(episodes)]
        for a, b in itertools.pairwise(cuts):
            writer.write_table(table.slice(a, b - a), row_group_size=b - a)
write(sys.argv[1], sys.argv[2] + "-cold")
cold = time.perf_counter() - start
start = time.perf_counter()
write(sys.argv[1], sys.argv[2] + "-warm")
print(json.dumps([cold, time.perf_counter() - start]))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shapes", default="1000x300,200x1800,200x300,50x300")
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores; signals only")
    print(
        f"{'episodes x frames':>18} {'export cold/warm':>17} {'bare cold/warm':>15} "
        f"{'ratio cold':>10} {'ratio warm':>10} {'vs source cols':>14} {'peak MB':>8}"
    )
    for shape in args.shapes.split(","):
        episodes, frames = (int(x) for x in shape.split("x"))
        run(episodes, frames)


def run(episodes: int, frames: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        source = synthetic.write_lerobot_v30(
            tmp_path / "source", episodes=episodes, frames=frames, fps=30.0
        )
        url = f"sqlite:///{tmp}/ws.db"
        ws = ak.connect(url, user="ada")
        ids = ws.import_datasets(source, progress=False).dataset_ids
        task = ws.tasks.create("bench", datasets=ids, annotators=["ada"], reviewers=["ada"])
        ws.tasks.start(task.id)
        for dataset in ids:
            ws.annotations.add(task.id, dataset, start_ns=0, end_ns=10**9, description="reach")
        ws.tasks.submit(task.id)
        ws.tasks.approve(task.id)
        result = json.loads(child(CHILD, url, str(task.id), str(tmp_path / "export")))
        # the same frames as the export wrote them (language columns, subtask_index included)
        exported = tmp_path / "export/data/chunk-000/file-000.parquet"
        bare = json.loads(child(BARE, str(exported), str(tmp_path / "bare")))
        plain = json.loads(child(BARE, str(source / "data/chunk-000/file-000.parquet"), tmp + "/p"))
    ours = result["seconds"]
    ratio = [b / o for o, b in zip(ours, bare, strict=True)]
    print(
        f"{episodes:>8,} x {frames:>7,} {ours[0]:7.2f} / {ours[1]:5.2f} s "
        f"{bare[0]:6.2f} / {bare[1]:4.2f} s {ratio[0]:9.2f}x {ratio[1]:9.2f}x "
        f"{plain[1] / ours[1]:13.2f}x {result['peak_mb']:8.0f}"
    )


def child(code: str, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, check=True
    )
    return done.stdout.strip().splitlines()[-1]


if __name__ == "__main__":
    main()
