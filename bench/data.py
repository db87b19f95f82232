"""Episode-data benchmark, printed side by side in one run:

1. indexing N generated MCAP episodes into a workspace vs the bare ``mcap`` summary read of the
   same files (goal: ≤ 1.2x);
2. indexing an N-episode LeRobot v3.0 dataset vs pyarrow reading its ``meta/``;
3. ``signal()`` window time and ``frame()`` step time (p50/p95) on a 1-hour, 3-camera, 100 Hz
   episode.

Generated files are kept in ``bench/out/`` so later runs skip writing them.
Run: ``python bench/data.py [--episodes 1000] [--hour-minutes 60]``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import pyarrow.parquet as pq
from mcap.reader import make_reader

import annotation_kit as ak
from annotation_kit.data import synthetic
from annotation_kit.formats import scan

OUT = Path(__file__).resolve().parent / "out"
SECOND = 1_000_000_000


def pct(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100)[q - 1]


def mcap_files(n: int) -> list[Path]:
    folder = OUT / f"mcap_{n}"
    files = [folder / f"episode_{i:04d}.mcap" for i in range(n)]
    missing = [f for f in files if not f.exists()]
    if missing:
        print(f"writing {len(missing)} MCAP episodes (5 s, 2 cameras, 100 Hz) ...", flush=True)
    for i, f in enumerate(files):
        if not f.exists():
            synthetic.write_mcap(f, duration_s=5, seed=i, frame_pool_s=1.0)
    return files


def timed(fn) -> float:
    fn()  # warm up: imports, page cache
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def bench_mcap(n: int) -> None:
    files = mcap_files(n)

    def bare() -> None:
        for f in files:
            with f.open("rb") as stream:
                make_reader(stream).get_summary()

    base = timed(bare)
    probed = timed(lambda: [scan(f) for f in files])
    unprobed = timed(lambda: [scan(f, probe_cameras=False) for f in files])
    with tempfile.TemporaryDirectory() as tmp:
        ws = ak.connect(f"sqlite:///{tmp}/ws.db", user="ada")
        start = time.perf_counter()
        report = ws.import_datasets(files, progress=False, probe_cameras=False)
        imported = time.perf_counter() - start
        assert not report.failed
        ws.close()
    print(f"MCAP x{n}: bare mcap summary read {base:6.2f} s")
    print(f"  our scan, cameras probed for resolution  {probed:6.2f} s ({probed / base:5.2f}x)")
    print(f"  our scan, no probe                       {unprobed:6.2f} s ({unprobed / base:5.2f}x)")
    print(f"  full import into SQLite, no probe        {imported:6.2f} s ({imported / base:5.2f}x)")


def bench_lerobot(n: int) -> None:
    folder = OUT / f"lerobot_{n}"
    if not (folder / "meta/info.json").exists():
        print(f"writing a {n}-episode LeRobot v3.0 dataset ...", flush=True)
        synthetic.write_lerobot_v30(folder, episodes=n, frames=60)

    def bare() -> None:
        json.loads((folder / "meta/info.json").read_text())
        for f in sorted((folder / "meta/episodes").rglob("*.parquet")):
            pq.read_table(f)
        pq.read_table(folder / "meta/tasks.parquet")

    base = timed(bare)
    scanned = timed(lambda: scan(folder))
    episodes = scan(folder)
    with tempfile.TemporaryDirectory() as tmp:
        ws = ak.connect(f"sqlite:///{tmp}/ws.db", user="ada")
        start = time.perf_counter()
        ws.import_datasets(folder, progress=False)
        imported = time.perf_counter() - start
        ws.close()
    print(
        f"LeRobot v3.0 x{len(episodes)}: pyarrow meta read {base:6.3f} s | our scan "
        f"{scanned:6.3f} s ({scanned / base:.2f}x) | full import into SQLite {imported:6.2f} s"
    )


def hour_episode(minutes: int) -> Path:
    """The long 3-camera, 100 Hz MCAP episode, written once to bench/out."""
    OUT.mkdir(exist_ok=True)
    path = OUT / f"hour_{minutes}min.mcap"
    if not path.exists():
        print(f"writing a {minutes}-minute, 3-camera, 100 Hz MCAP episode ...", flush=True)
        synthetic.write_mcap(
            path,
            duration_s=minutes * 60,
            cameras=("wrist", "front", "top"),
            fps=15,
            frame_pool_s=30,
        )
    return path


def bench_hour(minutes: int) -> None:
    path = hour_episode(minutes)
    print(f"{minutes}-minute episode: {path.stat().st_size / 1e6:.0f} MB")
    with tempfile.TemporaryDirectory() as tmp:
        ws = ak.connect(f"sqlite:///{tmp}/ws.db", user="ada")
        start = time.perf_counter()
        [dataset_id] = ws.import_datasets(path, progress=False).dataset_ids
        print(f"  import (index) {time.perf_counter() - start:6.2f} s")
        middle = minutes * 30 * SECOND
        with ws.episode(dataset_id) as episode:
            cold = []
            for i in range(10):
                begin = middle + i * 60 * SECOND % (minutes * 30 * SECOND)
                t0 = time.perf_counter()
                episode.signal("/robot/joint_states", begin, begin + 60 * SECOND, max_points=2000)
                cold.append((time.perf_counter() - t0) * 1000)
            print(
                f"  signal() 60 s window, first look (reads only its chunks): "
                f"p50 {pct(cold, 50):7.1f} ms  p95 {pct(cold, 95):7.1f} ms"
            )
            t0 = time.perf_counter()
            whole = episode.signal("/robot/joint_states", max_points=2000)
            print(
                f"  signal() whole episode, first look ({whole.samples:,} samples): "
                f"{time.perf_counter() - t0:6.2f} s"
            )
            warm = []
            for i in range(50):
                begin = (i * 37 % max(1, minutes)) * 60 * SECOND
                t0 = time.perf_counter()
                episode.signal("/robot/joint_states", begin, begin + 60 * SECOND, max_points=2000)
                warm.append((time.perf_counter() - t0) * 1000)
            print(
                f"  signal() 60 s window once the stream is read: p50 {pct(warm, 50):6.2f} ms"
                f"  p95 {pct(warm, 95):6.2f} ms"
            )
            camera = "/camera/front/image/compressed"
            steps = []
            t = middle
            for i in range(200):
                t += (1 if i % 10 else -3) * SECOND // 15
                t0 = time.perf_counter()
                episode.frame(camera, t)
                steps.append((time.perf_counter() - t0) * 1000)
            print(
                f"  frame() step forward (and back every 10): p50 {pct(steps, 50):6.2f} ms  "
                f"p95 {pct(steps, 95):6.2f} ms"
            )
        ws.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=1000)
    parser.add_argument("--hour-minutes", type=int, default=60)
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    bench_mcap(args.episodes)
    bench_lerobot(args.episodes)
    bench_hour(args.hour_minutes)


if __name__ == "__main__":
    main()
