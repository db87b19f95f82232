"""HDF5 episodes in three layouts, read with h5py:

* robomimic — ``data/demo_N/{actions, obs/*, states, rewards, dones}``, one episode per demo;
* ALOHA/ACT — one ``episode_N.hdf5`` with ``/observations/{qpos, qvel, images/<cam>}``, ``/action``;
* IO platform — ``/data/episode_NNN/{action, observation.state, observation.images.*}`` with
  attrs ``task`` and ``score``.

HDF5 keeps frames, not clocks: sample ``i`` is at ``i / fps`` (fps from an ``fps`` attribute,
else the layout's usual rate: robomimic 20 Hz, ALOHA 50 Hz, IO platform 30 Hz).
"""

from __future__ import annotations

import json
from typing import Any, cast

import h5py
import numpy as np

from ..store.locations import Location
from .base import EpisodeInfo, FormatError, Frame, StreamInfo, encode_jpeg, exported_segments, rate

NAME = "hdf5"
SUFFIXES = (".hdf5", ".h5", ".he5")
MAGIC = b"\x89HDF\r\n\x1a\n"
DEFAULT_FPS = {"robomimic": 20.0, "aloha": 50.0, "io": 30.0}
SKIP = ("next_obs/", "annotations/")  # robomimic's next_obs repeats obs shifted by one step;
# annotations/ holds an annotation_kit export's annotations (read back as source segments)


def _layout(root: h5py.File) -> tuple[str, list[str]]:
    data = root.get("data")
    if isinstance(data, h5py.Group):
        names = sorted(data.keys(), key=_natural)
        if names and all(n.startswith("demo_") for n in names):
            return "robomimic", [f"data/{n}" for n in names]
        if names and all(n.startswith("episode_") for n in names):
            return "io", [f"data/{n}" for n in names]
    if isinstance(root.get("observations"), h5py.Group) and "action" in root:
        return "aloha", ["/"]
    found = ", ".join(sorted(root.keys())[:20]) or "nothing"
    raise FormatError(
        f"unknown HDF5 layout: expected robomimic (data/demo_N), ALOHA/ACT (/observations, "
        f"/action) or IO platform (data/episode_NNN); found top-level keys: {found}"
    )


def _natural(name: str) -> tuple[str, int]:
    head, _, tail = name.rpartition("_")
    return (head, int(tail)) if tail.isdigit() else (name, -1)


def _datasets(group: h5py.Group) -> dict[str, h5py.Dataset]:
    found: dict[str, h5py.Dataset] = {}
    group.visititems(
        lambda name, obj: found.__setitem__(name, obj) if isinstance(obj, h5py.Dataset) else None
    )
    return {k: v for k, v in found.items() if not k.startswith(SKIP)}


def _is_camera(dataset: h5py.Dataset) -> bool:
    return dataset.ndim == 4 and dataset.dtype == np.uint8 and dataset.shape[-1] in (1, 3, 4)


def _fps(layout: str, *holders: Any) -> float:
    for holder in holders:
        if "fps" in holder.attrs:
            return float(holder.attrs["fps"])
    if layout == "robomimic" and "env_args" in holders[-1].attrs:
        args = json.loads(holders[-1].attrs["env_args"])
        if freq := (args.get("env_kwargs") or {}).get("control_freq"):
            return float(freq)
    return DEFAULT_FPS[layout]


def _attr(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.decode(errors="replace")
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return value


def scan(location: Location, *, probe_cameras: bool = True) -> list[EpisodeInfo]:
    """Index every episode of one HDF5 file (robomimic files hold several)."""
    size = location.size()
    try:
        with location.open() as stream, h5py.File(stream, "r") as root:
            layout, groups = _layout(root)
            episodes = [
                _episode(location, root, layout, path, size / len(groups)) for path in groups
            ]
    except FormatError as exc:
        raise FormatError(f"{location.url}: {exc}") from None
    except (OSError, KeyError, ValueError) as exc:
        raise FormatError(f"{location.url}: not a readable HDF5 file ({exc})") from exc
    return episodes


def _episode(
    location: Location, root: h5py.File, layout: str, path: str, size: float
) -> EpisodeInfo:
    group = _group(root, path)
    fps = _fps(layout, group, root.get("data", root))
    datasets = _datasets(group)
    length = max((d.shape[0] for d in datasets.values() if d.ndim), default=0)
    if "num_samples" in group.attrs:
        length = int(cast(Any, group.attrs["num_samples"]))
    if not length:
        raise FormatError(f"episode {path} holds no samples")
    duration = round((length - 1) * 1e9 / fps)
    streams = []
    for name, dataset in sorted(datasets.items()):
        if _is_camera(dataset):
            streams.append(
                StreamInfo(
                    name=name,
                    kind="camera",
                    count=dataset.shape[0],
                    rate_hz=fps,
                    height=dataset.shape[1],
                    width=dataset.shape[2],
                    encoding="uint8",
                )
            )
        elif dataset.dtype.kind in "biuf" and dataset.ndim in (1, 2) and dataset.shape[0]:
            streams.append(
                StreamInfo(
                    name=name,
                    kind="signal",
                    count=dataset.shape[0],
                    rate_hz=rate(dataset.shape[0], duration) and fps,
                    encoding=str(dataset.dtype),
                )
            )
        else:
            streams.append(
                StreamInfo(
                    name=name,
                    kind="other",
                    count=int(dataset.shape[0]) if dataset.ndim else 1,
                    encoding=str(dataset.dtype),
                )
            )
    attrs = {k: _attr(v) for k, v in group.attrs.items() if k != "model_file"}
    if layout == "aloha":
        attrs |= {k: _attr(v) for k, v in root.attrs.items()}
    label = path.rsplit("/", 1)[-1] if path != "/" else location.name.rsplit(".", 1)[0]
    fragment = "" if path == "/" else f"#{path}"
    segments = []
    exported = group.get("annotations")
    if isinstance(exported, h5py.Group) and "records" in exported.attrs:
        segments = exported_segments(json.loads(cast(Any, exported.attrs["records"])), duration)
    return EpisodeInfo(
        segments=segments,
        name=label if path == "/" else f"{location.name.rsplit('.', 1)[0]}/{label}",
        source_uri=location.url + fragment,
        format=f"{NAME}-{layout}",
        duration_ns=duration,
        streams=streams,
        size_bytes=int(size),
        locator={"group": path, "fps": fps},
        meta={"layout": layout, "fps": fps, "attrs": attrs},
    )


class Hdf5Episode:
    """Lazy reader: opens the file once and slices datasets on demand."""

    def __init__(self, location: Location, group: str, fps: float) -> None:
        self._stream = location.open()
        self._file = h5py.File(self._stream, "r")
        self._group = _group(self._file, group)
        self._period = 1e9 / fps

    def _times(self, count: int) -> np.ndarray:
        return np.round(np.arange(count) * self._period).astype(np.int64)

    def signal(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """Times and values (one row per sample) of a signal dataset."""
        dataset = self._dataset(name)
        values = np.asarray(dataset[()], dtype=np.float64).reshape(dataset.shape[0], -1)
        return self._times(dataset.shape[0]), values

    def frame_times(self, camera: str) -> np.ndarray:
        """Times of a camera's frames."""
        return self._times(self._dataset(camera).shape[0])

    def frame(self, camera: str, index: int) -> Frame:
        """Frame ``index`` of a camera, as JPEG."""
        pixels = self._dataset(camera)[index]
        return Frame(
            encode_jpeg(pixels[..., :3] if pixels.ndim == 3 else pixels),
            "image/jpeg",
            int(self.frame_times(camera)[index]),
            index,
        )

    def _dataset(self, name: str) -> h5py.Dataset:
        found = self._group.get(name)
        if not isinstance(found, h5py.Dataset):
            raise FormatError(f"no stream {name!r} in this episode")
        return found

    def close(self) -> None:
        """Close the HDF5 file and its stream."""
        self._file.close()
        self._stream.close()


def open_episode(location: Location, info: dict[str, Any]) -> Hdf5Episode:
    """Open one indexed episode (a group of the file) for lazy reading."""
    locator = info["locator"]
    return Hdf5Episode(location, locator["group"], float(locator["fps"]))


def _group(root: h5py.File, path: str) -> h5py.Group:
    found = root[path]
    if not isinstance(found, h5py.Group):
        raise FormatError(f"{path} is not a group of datasets in {root.filename}")
    return found
