"""Video benchmark: how fast training reads random frames of our LeRobot videos, beside a
dataset lerobot itself wrote with the same frames.

Generated MCAP episodes (``--episodes`` × ``--seconds`` s, two 640×480 cameras at 30 fps) are
exported as LeRobot v3.0 twice — the default (AV1, a keyframe every 2 frames, several episodes
per file) and ``codec="h264"`` — and the default export is written again by lerobot 0.6.1's
own ``LeRobotDataset`` writer (``tests/consumers/lerobot_rewrite.py``); a fourth copy has the
videos re-encoded with x264's defaults (a keyframe every ~250 frames, B-frames), which was
our default before issue 13. Each dataset is then
read in lerobot 0.6.1 item by item at random indices (``bench/lerobot_decode.py``): the time of
``ds[i]``, which decodes both cameras' frames, is what a training step pays per sample. Also
printed: the export's time and the size of its videos.
Needs the consumer environments (``make consumers``).
Run: ``python bench/video.py [--episodes 4] [--seconds 20] [--samples 200]``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
import time
from pathlib import Path

import annotation_kit as ak
from annotation_kit.data import synthetic

HERE = Path(__file__).resolve().parent
LR_HOME = Path(os.environ.get("LR_HOME") or Path.home() / ".cache/lerobot-oracles")
V06 = LR_HOME / "v06/bin/python"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--samples", type=int, default=200)
    args = parser.parse_args()
    if not V06.exists():
        raise SystemExit(f"{V06} is missing: run `make consumers` first")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        files = [
            synthetic.write_mcap(
                root / f"src/ep{i}.mcap",
                duration_s=args.seconds,
                seed=i,
                fps=30,
                cameras=("wrist", "front"),
                scene=synthetic.Scene(i, width=640, height=480),
            )
            for i in range(args.episodes)
        ]
        ws = ak.connect(f"sqlite:///{root / 'ws.db'}", user="ada")
        ids = ws.import_datasets(files, progress=False).dataset_ids
        task = ws.tasks.create("video", datasets=ids).id
        found = {}
        for name, options in (("ours, AV1 (default)", {}), ("ours, H.264", {"codec": "h264"})):
            folder = root / name.split()[-1].strip("()")
            start = time.perf_counter()
            ws.export(task, "lerobot", folder, any_status=True, options=options)
            found[name] = (folder, time.perf_counter() - start)
        reference = root / "lerobot"
        start = time.perf_counter()
        subprocess.run(
            [
                str(V06),
                str(HERE.parent / "tests/consumers/lerobot_rewrite.py"),
                str(found["ours, AV1 (default)"][0]),
                str(reference),
            ],
            check=True,
            capture_output=True,
        )
        found["lerobot 0.6.1's own writer"] = (reference, time.perf_counter() - start)
        start = time.perf_counter()
        old = x264_defaults(found["ours, AV1 (default)"][0], root / "x264-defaults")
        found["x264 defaults (before)"] = (old, time.perf_counter() - start)
        frames = args.episodes * int(args.seconds * 30)
        print(
            f"{args.episodes} episodes x {args.seconds:g} s, 2 cameras 640x480 at 30 fps "
            f"({frames:,} frames a camera); load average {os.getloadavg()[0]:.2f}"
        )
        print(f"{'dataset':<28} {'ds[i] p50':>10} {'p95':>8} {'videos MB':>10} {'written in':>11}")
        for name, (folder, seconds) in found.items():
            out = subprocess.run(
                [str(V06), str(HERE / "lerobot_decode.py"), str(folder), str(args.samples)],
                check=True,
                capture_output=True,
                text=True,
            )
            result = json.loads(out.stdout.strip().splitlines()[-1])
            size = sum(p.stat().st_size for p in (folder / "videos").rglob("*.mp4")) / 1e6
            print(
                f"{name:<28} {result['p50_ms']:8.1f} ms {result['p95_ms']:6.1f} ms "
                f"{size:10.1f} {seconds:9.1f} s"
            )


def x264_defaults(source: Path, folder: Path) -> Path:
    """A copy of ``source`` whose videos are re-encoded with libx264's default settings."""
    import shutil

    import av

    shutil.copytree(source, folder)
    for path in folder.rglob("*.mp4"):
        new = path.with_suffix(".new.mp4")
        with av.open(str(path)) as src, av.open(str(new), "w") as out:
            stream = out.add_stream("libx264", rate=30)
            codec = src.streams.video[0].codec_context
            stream.width, stream.height, stream.pix_fmt = codec.width, codec.height, "yuv420p"
            for i, frame in enumerate(src.decode(video=0)):
                picture = av.VideoFrame.from_ndarray(frame.to_ndarray(format="rgb24"), "rgb24")
                picture.pts = i
                for packet in stream.encode(picture):
                    out.mux(packet)
            for packet in stream.encode():
                out.mux(packet)
        new.replace(path)
    info = json.loads((folder / "meta/info.json").read_text())
    for feature in info["features"].values():
        if feature["dtype"] == "video":
            feature["info"]["video.codec"] = "h264"
    (folder / "meta/info.json").write_text(json.dumps(info, indent=4))
    return folder


if __name__ == "__main__":
    main()
