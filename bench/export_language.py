"""Dense language benchmark: one long episode with many described segments, exported to LeRobot
v3.0 and read back item by item by lerobot 0.6.1 (every frame's task, subtask, and a chat
sample rendered by its ``render_sample``), with each side's time and peak memory.

Every frame of a LeRobot episode carries the episode's whole list of language rows, so the
text written grows with segments × frames; the export keeps its memory to one row group of at
most 256 MB of language text at a time (see ``annotation_kit/exports/lerobot_language.py``).

Run: ``python bench/export_language.py [--minutes 10] [--segments 300] [--chars 200]
[--fps 30]``. Needs the lerobot 0.6.1 environment (``make consumers``).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SECOND = 1_000_000_000

EXPORT = textwrap.dedent(
    """
    import json, resource, sys, time
    from pathlib import Path
    import annotation_kit as ak
    from annotation_kit import synthetic

    folder, minutes, segments, chars, fps = Path(sys.argv[1]), *map(float, sys.argv[2:6])
    ws = ak.connect(f"sqlite:///{folder / 'ws.db'}", user="ada")
    ws.users.create("ann", "annotator")
    source = synthetic.write_mcap(folder / "long.mcap", duration_s=minutes * 60, cameras=())
    [episode] = ws.import_datasets(source, progress=False).dataset_ids
    task = ws.tasks.create("dense", datasets=[episode], annotators=["ann"]).id
    ws.tasks.start(task)
    span = int(minutes * 60 * 1e9 / segments)
    for k in range(int(segments)):
        text = (f"{k:04d} " + "x" * int(chars))[: int(chars)]
        ws.annotations.add(task, episode, start_ns=k * span, end_ns=k * span + span // 2,
                           description=text)
    start = time.perf_counter()
    record = ws.export(task, "lerobot", folder / "out", any_status=True,
                       options={"rate_hz": int(fps), "cameras": "none"})
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "frames": record.counts["frames"], "peak_mb": peak,
                      "span_ns": span}))
    """
)


def expected(frames: int, fps: int, segments: int, chars: int, span: int) -> list[str]:
    """Each frame's subtask, stated from the segments (not from the writer)."""
    out = []
    for frame in range(frames):
        t = round(frame * SECOND / fps)
        k = t // span
        inside = k < segments and t < k * span + span // 2
        out.append((f"{k:04d} " + "x" * chars)[:chars] if inside else "idle")
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--segments", type=int, default=300)
    parser.add_argument("--chars", type=int, default=200)
    parser.add_argument("--fps", type=int, default=30)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from tests.consumers import python

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        shape = [str(v) for v in (args.minutes, args.segments, args.chars, args.fps)]
        done = subprocess.run(
            [sys.executable, "-c", EXPORT, str(folder), *shape],
            capture_output=True,
            text=True,
            check=True,
        )
        made = json.loads(done.stdout.strip().splitlines()[-1])
        out = folder / "out"
        size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file()) / 1e6
        frames = made["frames"]
        subtasks = expected(frames, args.fps, args.segments, args.chars, made["span_ns"])
        wanted = folder / "expected.json"
        wanted.write_text(json.dumps({"episodes": [{"task": "dense", "subtasks": subtasks}]}))
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        start = time.perf_counter()
        read = subprocess.run(
            [str(python("v06")), str(ROOT / "tests/consumers/lerobot_items.py"), out, wanted],
            capture_output=True,
            text=True,
        )
        seconds = time.perf_counter() - start
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        verdict = (read.stdout.strip().splitlines() or ["(no output)"])[-1]
    print(
        f"{args.minutes:g} min at {args.fps} fps ({frames} frames), {args.segments} segments of "
        f"{args.chars} characters, signals only; 2 cores"
    )
    print(f"export: {made['seconds']:.1f} s, peak {made['peak_mb']:.0f} MB, {size:.1f} MB written")
    lerobot_peak = f"{peak / 1024:.0f} MB" if peak > before else "(not above the export's)"
    print(f"lerobot 0.6.1 item by item: {verdict}, {seconds:.0f} s, peak {lerobot_peak}")


if __name__ == "__main__":
    main()
