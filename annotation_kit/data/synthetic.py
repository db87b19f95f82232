"""Synthetic but plausible robot episodes, written through the same writers robots use.

A 7-joint arm follows smooth trajectories, its gripper opens and closes every few seconds, and
each camera sees a coloured block moving across the table (it turns green while gripped). The
same scene is written as ROS 2 MCAP (``mcap-ros2-support``), ALOHA/ACT or IO-platform HDF5
(``h5py``) and LeRobot v3.0 (``pyarrow``), at any length — from a 2-second test file to a
1-hour, 3-camera, 100 Hz benchmark episode.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

JOINTS = [f"joint{i}" for i in range(1, 8)] + ["gripper"]
_TIME = (
    "================================================================================\n"
    "MSG: std_msgs/Header\nbuiltin_interfaces/Time stamp\nstring frame_id\n"
    "================================================================================\n"
    "MSG: builtin_interfaces/Time\nint32 sec\nuint32 nanosec\n"
)
JOINT_STATE = (
    "std_msgs/Header header\nstring[] name\nfloat64[] position\nfloat64[] velocity\n"
    "float64[] effort\n" + _TIME
)
COMPRESSED_IMAGE = "std_msgs/Header header\nstring format\nuint8[] data\n" + _TIME


@dataclass
class Scene:
    """A deterministic scene: the same seed gives the same episode in every format."""

    seed: int = 0
    width: int = 96
    height: int = 72

    def __post_init__(self) -> None:
        rng = np.random.default_rng(self.seed)
        self._freq = rng.uniform(0.05, 0.3, size=(2, 7))
        self._phase = rng.uniform(0, 2 * np.pi, size=(2, 7))
        self._amp = rng.uniform(0.2, 1.0, size=(2, 7))
        self._grip_period = rng.uniform(4.0, 8.0)
        self._colour = rng.integers(60, 255, size=3)

    def joints(self, t: np.ndarray) -> np.ndarray:
        """(n, 8) joint positions at times ``t`` (seconds); the last column is the gripper."""
        t = np.asarray(t, dtype=np.float64)[:, None]
        arm = self._amp[0] * np.sin(
            2 * np.pi * self._freq[0] * t + self._phase[0]
        ) + 0.3 * self._amp[1] * np.sin(2 * np.pi * self._freq[1] * t + self._phase[1])
        return np.hstack([arm, self.gripper(t[:, 0])[:, None]])

    def gripper(self, t: np.ndarray) -> np.ndarray:
        """0 = open, 1 = closed, with smooth 0.2 s transitions."""
        phase = np.mod(t, self._grip_period) / self._grip_period
        return 0.5 + 0.5 * np.tanh(40 * (np.minimum(phase - 0.4, 0.9 - phase)))

    def image(self, t: float, camera: int = 0) -> np.ndarray:
        """(height, width, 3) uint8 frame of camera ``camera`` at time ``t`` (seconds)."""
        h, w = self.height, self.width
        y, x = np.mgrid[0:h, 0:w]
        frame = np.empty((h, w, 3), dtype=np.uint8)
        frame[..., 0] = 40 + 30 * camera
        frame[..., 1] = (60 + 80 * y / h).astype(np.uint8)
        frame[..., 2] = (90 + 60 * x / w).astype(np.uint8)
        cx = int((0.5 + 0.35 * np.sin(0.7 * t + camera)) * w)
        cy = int((0.5 + 0.3 * np.sin(1.1 * t + 2 * camera)) * h)
        size = max(3, w // 10)
        closed = self.gripper(np.array([t]))[0] > 0.5
        colour = (40, 220, 60) if closed else tuple(int(c) for c in self._colour)
        frame[max(0, cy - size) : cy + size, max(0, cx - size) : cx + size] = colour
        return frame


def _jpeg(pixels: np.ndarray) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="JPEG", quality=80)
    return buffer.getvalue()


def write_mcap(
    path: str | Path,
    *,
    duration_s: float = 10.0,
    rate_hz: float = 100.0,
    cameras: tuple[str, ...] = ("wrist", "front"),
    fps: float = 15.0,
    seed: int = 0,
    start_ns: int = 1_760_000_000_000_000_000,
    frame_pool_s: float | None = None,
    scene: Scene | None = None,
) -> Path:
    """Write one ROS 2 MCAP episode: ``/robot/joint_states``, ``/robot/joint_cmd`` and
    ``/camera/<name>/image/compressed``. ``frame_pool_s`` repeats camera frames after that many
    seconds (keeps hour-long benchmark files quick to write)."""
    from mcap_ros2.writer import Writer

    scene = scene or Scene(seed)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    t = np.arange(0, duration_s, 1 / rate_hz)
    positions = scene.joints(t)
    commands = scene.joints(t + 0.05)
    frame_times = np.arange(0, duration_s, 1 / fps)
    pool: dict[tuple[int, int], bytes] = {}
    with path.open("wb") as stream:
        writer = Writer(stream)
        joint_schema = writer.register_msgdef("sensor_msgs/msg/JointState", JOINT_STATE)
        image_schema = writer.register_msgdef("sensor_msgs/msg/CompressedImage", COMPRESSED_IMAGE)
        events: list[tuple[float, int | str, int]] = [(ti, "joints", i) for i, ti in enumerate(t)]
        events += [(ti, cam, i) for cam in range(len(cameras)) for i, ti in enumerate(frame_times)]
        events.sort(key=lambda e: (e[0], str(e[1])))
        for when, what, i in events:
            stamp = start_ns + round(when * 1e9)
            header = {
                "stamp": {"sec": stamp // 1_000_000_000, "nanosec": stamp % 1_000_000_000},
                "frame_id": "base",
            }
            if what == "joints":
                for topic, values in (
                    ("/robot/joint_states", positions[i]),
                    ("/robot/joint_cmd", commands[i]),
                ):
                    writer.write_message(
                        topic,
                        joint_schema,
                        {
                            "header": header,
                            "name": JOINTS,
                            "position": values.tolist(),
                            "velocity": [],
                            "effort": [],
                        },
                        log_time=stamp,
                        publish_time=stamp,
                    )
            else:
                assert isinstance(what, int)
                key = (what, i % round(frame_pool_s * fps) if frame_pool_s else i)
                if key not in pool:
                    pool[key] = _jpeg(scene.image(key[1] / fps, what))
                writer.write_message(
                    f"/camera/{cameras[what]}/image/compressed",
                    image_schema,
                    {"header": header, "format": "jpeg", "data": pool[key]},
                    log_time=stamp,
                    publish_time=stamp,
                )
        writer.finish()
    return path


def write_aloha_hdf5(
    path: str | Path,
    *,
    duration_s: float = 4.0,
    fps: float = 50.0,
    cameras: tuple[str, ...] = ("top", "wrist"),
    seed: int = 0,
) -> Path:
    """Write one ALOHA/ACT ``episode_N.hdf5`` (``/observations/*``, ``/action``)."""
    import h5py

    scene = Scene(seed)
    t = np.arange(0, duration_s, 1 / fps)
    qpos = np.hstack([scene.joints(t), scene.joints(t + 7.0)])[:, :14]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with h5py.File(path, "w") as f:
        f.attrs["sim"] = True
        obs = f.create_group("observations")
        obs["qpos"] = qpos
        obs["qvel"] = np.gradient(qpos, axis=0) * fps
        images = obs.create_group("images")
        for c, name in enumerate(cameras):
            images.create_dataset(
                name,
                data=np.stack([scene.image(x, c) for x in t]),
                chunks=(1, scene.height, scene.width, 3),
            )
        f["action"] = np.hstack([scene.joints(t + 0.02), scene.joints(t + 7.02)])[:, :14]
    return path


def write_io_hdf5(
    path: str | Path,
    *,
    episodes: int = 2,
    duration_s: float = 3.0,
    fps: float = 30.0,
    seed: int = 0,
) -> Path:
    """Write the IO-platform layout: ``/data/episode_NNN`` with attrs ``task`` and ``score``."""
    import h5py

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with h5py.File(path, "w") as f:
        for e in range(episodes):
            scene = Scene(seed + e)
            t = np.arange(0, duration_s, 1 / fps)
            group = f.create_group(f"data/episode_{e:03d}")
            group.attrs["task"] = f"pick block {e}"
            group.attrs["score"] = 1.0 - 0.25 * e
            group.attrs["fps"] = fps
            group["observation.state"] = scene.joints(t)
            group["action"] = scene.joints(t + 0.05)
            group["observation.images.cam_high"] = np.stack([scene.image(x) for x in t])
    return path


def write_lerobot_v30(
    folder: str | Path,
    *,
    episodes: int = 3,
    frames: int = 60,
    fps: float = 30.0,
    seed: int = 0,
    rewards: bool = False,
) -> Path:
    """Write a signals-only LeRobot v3.0 dataset (each episode its own parquet row group);
    ``rewards=True`` adds the features an RL dataset has: ``next.reward`` (float32),
    ``next.done`` (bool) and ``observation.velocity`` (float32[8])."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder = Path(folder)
    (folder / "data/chunk-000").mkdir(parents=True, exist_ok=True)
    (folder / "meta/episodes/chunk-000").mkdir(parents=True, exist_ok=True)
    tasks = ["pick the block", "place the block"]
    state_type = pa.list_(pa.float32(), 8)
    columns = [
        ("observation.state", state_type),
        ("action", state_type),
        ("timestamp", pa.float32()),
        ("frame_index", pa.int64()),
        ("episode_index", pa.int64()),
        ("index", pa.int64()),
        ("task_index", pa.int64()),
    ]
    if rewards:
        columns += [
            ("next.reward", pa.float32()),
            ("next.done", pa.bool_()),
            ("observation.velocity", state_type),
        ]
    schema = pa.schema(columns)
    rows = []
    with pq.ParquetWriter(folder / "data/chunk-000/file-000.parquet", schema) as writer:
        for e in range(episodes):
            table = pa.table(_v30_columns(Scene(seed + e), e, frames, fps, rewards), schema=schema)
            writer.write_table(table, row_group_size=frames)
            rows.append(
                {
                    "episode_index": e,
                    "tasks": [tasks[e % 2]],
                    "length": frames,
                    "data/chunk_index": 0,
                    "data/file_index": 0,
                    "dataset_from_index": e * frames,
                    "dataset_to_index": (e + 1) * frames,
                    "meta/episodes/chunk_index": 0,
                    "meta/episodes/file_index": 0,
                }
            )
    pq.write_table(pa.Table.from_pylist(rows), folder / "meta/episodes/chunk-000/file-000.parquet")
    pq.write_table(pa.table({"task_index": [0, 1], "task": tasks}), folder / "meta/tasks.parquet")
    info = {
        "codebase_version": "v3.0",
        "robot_type": "synthetic-arm",
        "total_episodes": episodes,
        "total_frames": episodes * frames,
        "total_tasks": 2,
        "chunks_size": 1000,
        "fps": fps,
        "splits": {"train": f"0:{episodes}"},
        "data_path": "data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet",
        "video_path": None,
        "features": _v30_features(rewards),
    }
    (folder / "meta/info.json").write_text(json.dumps(info, indent=2))
    return folder


def _v30_columns(scene: Scene, e: int, frames: int, fps: float, rewards: bool) -> dict[str, Any]:
    """Episode ``e``'s columns in a v3.0 data file (its frames follow the earlier episodes')."""
    import pyarrow as pa

    t = np.arange(frames) / fps

    def vectors(values: np.ndarray) -> Any:
        return pa.FixedSizeListArray.from_arrays(pa.array(values.astype(np.float32).ravel()), 8)

    first = e * frames
    out = {
        "observation.state": vectors(scene.joints(t)),
        "action": vectors(scene.joints(t + 0.05)),
        "timestamp": pa.array(t, pa.float32()),
        "frame_index": np.arange(frames),
        "episode_index": np.full(frames, e),
        "index": np.arange(first, first + frames),
        "task_index": np.full(frames, e % 2),
    }
    if rewards:
        out |= {
            "next.reward": pa.array(np.linspace(0, 1, frames), pa.float32()),
            "next.done": pa.array(np.arange(frames) == frames - 1),
            "observation.velocity": vectors(np.gradient(scene.joints(t), axis=0) * fps),
        }
    return out


def _v30_features(rewards: bool) -> dict[str, Any]:
    feature = {"dtype": "float32", "shape": [8], "names": JOINTS}
    scalar = {"shape": [1], "names": None}
    out: dict[str, Any] = {"observation.state": feature, "action": feature}
    if rewards:
        out |= {
            "next.reward": {"dtype": "float32"} | scalar,
            "next.done": {"dtype": "bool"} | scalar,
            "observation.velocity": feature,
        }
    for k in ("timestamp", "frame_index", "episode_index", "index", "task_index"):
        out[k] = {"dtype": "int64" if k != "timestamp" else "float32"} | scalar
    return out
