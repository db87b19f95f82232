"""HDF5 in the IO-platform layout (default) or the robomimic layout, written with h5py.

IO platform (``layout="io"``): files ``episodes_NNN.hdf5`` of ``episodes_per_file`` episodes
each (the chunk size), holding ``/data/episode_NNN`` groups with ``action`` and
``observation.state`` (one row per frame, in the source's float type),
``observation.images.<camera>`` ((frames, H, W, 3) uint8) and attributes ``task`` (the
source's own task, as the LeRobot export carries it, else the task names), ``score`` (1.0 when
every exported annotation passed review, else the share that did; see :mod:`.plan` for what a
passed task means for annotations nobody judged), ``fps``, ``source_uri`` and ``dataset``.

robomimic (``layout="robomimic"``): one ``robomimic.hdf5`` with ``data/demo_N`` groups holding
``actions``, ``obs/state`` and ``obs/<camera>_image``, ``next_obs/*`` (each observation one
frame later, the last one repeated), ``rewards`` (0.0: we record none) and ``dones`` (1 on the
last frame), attribute ``num_samples``; ``data`` has ``total``, ``env_args`` (JSON) and ``fps``;
``mask/train`` lists every demo. robomimic's default config loads all of these. A robomimic
source keeps everything it has (its ``obs/*``, ``rewards``, ``dones``, ``states``,
``model_file``, ``env_args``...: :mod:`.hdf5_source`); only what it lacks is derived, and named
in the export's ``cleaned`` list.

An episode with no signal mapped to ``observation.state`` or ``action`` is refused, as the
LeRobot export refuses it (and a robomimic export needs ``actions``): nothing is written.

Both layouts keep the annotations beside each episode in an ``annotations`` group: one row per
annotation in the datasets ``annotation``, ``version``, ``start_ns``, ``end_ns`` (-1 for
episode-level annotations), ``start_index`` / ``end_index`` (the frames they map to),
``skill``, ``description``, ``labels`` (``;``-joined) and ``provenance``, plus the full records
as JSON in its ``records`` attribute. Frames are at the export rate (``rate_hz``, default the
fastest camera's); see :mod:`.sampling` for how source samples are picked.
"""

from __future__ import annotations

import json
import math
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from ..errors import ValidationError
from .hdf5_sink import hdf5_file
from .hdf5_source import copy_demo, env_args, robomimic_source
from .plan import EpisodePlan, Plan, Unfit
from .sampling import Grid, camera_pixels, mapping_for, rate_of, resampling

LAYOUTS = ("io", "robomimic")
TEXT = h5py.string_dtype("utf-8")


def write(
    plan: Plan,
    folder: Path,
    *,
    layout: str = "io",
    rate_hz: float | None = None,
    mapping: dict[str, str] | None = None,
    episodes_per_file: int = 50,
    images: bool = True,
) -> dict[str, Any]:
    """Write ``plan`` as HDF5 files in ``folder`` (one per episode, in the ``layout`` chosen)."""
    check(
        plan,
        layout=layout,
        rate_hz=rate_hz,
        mapping=mapping,
        episodes_per_file=episodes_per_file,
        images=images,
    )
    frames = 0
    if layout == "io":
        chunks = math.ceil(len(plan.episodes) / episodes_per_file) if plan.episodes else 0
        for chunk in range(chunks):
            part = plan.episodes[chunk * episodes_per_file : (chunk + 1) * episodes_per_file]
            with hdf5_file(folder / f"episodes_{chunk:03d}.hdf5") as (out, sink):
                data = out.create_group("data")
                for number, episode in enumerate(part, start=chunk * episodes_per_file):
                    group = data.create_group(f"episode_{number:03d}")
                    frames += _episode(group, episode, plan, rate_hz, mapping, images, "io")
                    sink.check()
        return {"files": chunks, "frames": frames}
    with hdf5_file(folder / "robomimic.hdf5") as (out, sink):
        data = out.create_group("data")
        names = []
        for number, episode in enumerate(plan.episodes, start=1):
            group = data.create_group(f"demo_{number}")
            count = _episode(group, episode, plan, rate_hz, mapping, images, "robomimic")
            sink.check()
            group.attrs["num_samples"] = count
            frames += count
            names.append(f"demo_{number}")
        data.attrs["total"] = frames
        data.attrs["env_args"] = next(
            (found for e in plan.episodes if (found := env_args(e))),
            json.dumps({"env_name": "annotation_kit_export", "type": 0, "env_kwargs": {}}),
        )
        rates = {rate_of(e, rate_hz, cameras=images) for e in plan.episodes}
        if len(rates) == 1:
            data.attrs["fps"] = rates.pop()
        out.create_dataset("mask/train", data=np.array(names, dtype=object), dtype=TEXT)
    return {"files": 1, "frames": frames}


def check(
    plan: Plan,
    *,
    layout: str,
    rate_hz: float | None,
    mapping: dict[str, str] | None,
    episodes_per_file: int,
    images: bool,
    **_: Any,
) -> None:
    """Refuse options that do not fit ``plan``, naming the problem, before anything is
    recorded or written (the export runs this first)."""
    if layout not in LAYOUTS:
        raise ValidationError(f"HDF5 layout must be one of {', '.join(LAYOUTS)}, got {layout!r}")
    if isinstance(episodes_per_file, bool) or not isinstance(episodes_per_file, int):
        raise ValidationError(f"episodes_per_file must be ≥ 1, got {episodes_per_file!r}")
    if episodes_per_file < 1:
        raise ValidationError(f"episodes_per_file must be ≥ 1, got {episodes_per_file!r}")
    if rate_hz is not None and (
        isinstance(rate_hz, bool)
        or not isinstance(rate_hz, int | float)
        or not 0 < rate_hz < float("inf")
    ):
        raise ValidationError(
            f"rate_hz must be a number of frames per second above 0, not {rate_hz!r}"
        )
    if not isinstance(images, bool):
        raise ValidationError(f"images must be True or False, not {images!r}")
    for episode in plan.episodes:  # refuse a bad mapping before writing anything
        mapped = mapping_for(episode.streams, mapping)
        if not mapped:
            raise Unfit(
                episode.name,
                "has no signal to map to observation.state or action; "
                "pass mapping={'observation.state': ..., 'action': ...}",
            )
        if layout == "robomimic" and "action" not in mapped:
            raise Unfit(
                episode.name,
                "has no signal to map to action, which robomimic needs; "
                "pass mapping={'action': ...}",
            )


write.check = check  # type: ignore[attr-defined]


def _episode(
    group: h5py.Group,
    episode: EpisodePlan,
    plan: Plan,
    rate_hz: float | None,
    mapping: dict[str, str] | None,
    images: bool,
    layout: str,
) -> int:
    rate = rate_of(episode, rate_hz, cameras=images)
    grid = Grid.at(episode.duration_ns, rate)
    names = {
        "io": {"observation.state": "observation.state", "action": "action"},
        "robomimic": {"observation.state": "obs/state", "action": "actions"},
    }[layout]
    kinds = {s["name"]: s.get("encoding") for s in episode.streams}
    mapped = mapping_for(episode.streams, mapping)
    shown = [c["name"] for c in episode.cameras if images and not c.get("missing")]
    with robomimic_source(episode) if layout == "robomimic" else nullcontext() as source:
        copied = copy_demo(*source, group, grid.t_ns) if source is not None else []
    if said := resampling(episode, rate, copied if copied else [*mapped.values(), *shown]):
        plan.cleaned.append(said)
    data = episode.open()
    try:
        for key, stream in mapped.items():
            if copied and (names[key] in copied or key == "observation.state"):
                continue  # the source's own actions and observations are there already
            times, values = data.reader.signal(stream)
            values = values[grid.nearest(times)]
            if kinds.get(stream) in ("float16", "float32"):  # readers give float64: undo that
                values = values.astype(kinds[stream])
            dataset = group.create_dataset(names[key], data=values)
            dataset.attrs["source"] = stream
        for camera in [] if copied else episode.cameras:
            if not images or camera.get("missing"):
                continue
            _camera(group, data, camera["name"], _camera_name(camera["name"], layout), grid)
    finally:
        data.close()
    if layout == "robomimic" and (derived := _transitions(group, len(grid.t_ns))):
        plan.cleaned.append(
            f"episode {episode.name}: derived {', '.join(derived)} (the source has none)"
        )
    passed = [a.review_verdict == "pass" for a in episode.annotations]
    if not copied:
        group.attrs["task"] = episode.source_task or ", ".join(episode.tasks)
    group.attrs["score"] = float(np.mean(passed)) if passed else 0.0
    group.attrs["fps"] = rate
    group.attrs["source_uri"] = episode.source_uri
    group.attrs["dataset"] = episode.dataset
    _annotations(group.create_group("annotations"), episode, grid)
    plan.step(episode.name)
    return len(grid.t_ns)


def _camera(group: h5py.Group, data: Any, camera: str, name: str, grid: Grid) -> None:
    stored = None
    for i, frame in enumerate(camera_pixels(data, camera, grid)):
        if stored is None:
            stored = group.create_dataset(
                name,
                shape=(len(grid.t_ns), *frame.shape),
                dtype=np.uint8,
                chunks=(1, *frame.shape),
                compression="gzip",
                compression_opts=1,
            )
            stored.attrs["source"] = camera
        stored[i] = frame


def _transitions(group: h5py.Group, n: int) -> list[str]:
    """What robomimic reads besides observations and actions, where the source gave none:
    ``next_obs`` (each observation one frame later), ``rewards`` (0.0) and ``dones`` (1 on the
    last frame). Returns what was derived."""
    derived = []
    observations = group["obs"]
    assert isinstance(observations, h5py.Group)
    for key, stored in observations.items():
        if f"next_obs/{key}" in group:
            continue
        derived.append(f"next_obs/{key}")
        following = group.create_dataset(
            f"next_obs/{key}",
            shape=stored.shape,
            dtype=stored.dtype,
            chunks=stored.chunks,
            compression=stored.compression,
            compression_opts=stored.compression_opts,
        )
        for start in range(0, n, 256):  # a block at a time: images can be large
            stop = min(n, start + 256)
            block = stored[start + 1 : min(stop + 1, n)]
            if stop == n:  # the last frame has no next one: it is repeated
                block = np.concatenate([block, stored[n - 1 : n]])
            following[start:stop] = block
    if "rewards" not in group:
        group.create_dataset("rewards", data=np.zeros(n, dtype=np.float64))
        derived.append("rewards")
    if "dones" not in group:
        dones = np.zeros(n, dtype=np.int64)
        dones[-1] = 1
        group.create_dataset("dones", data=dones)
        derived.append("dones")
    return derived


def _camera_name(name: str, layout: str) -> str:
    short = [p for p in name.replace(".", "/").split("/") if p] or ["camera"]
    generic = {"image", "images", "compressed", "camera", "observation", "observations", "raw"}
    label = "_".join(p for p in short if p not in generic) or short[-1]
    return f"observation.images.{label}" if layout == "io" else f"obs/{label}_image"


def _annotations(group: h5py.Group, episode: EpisodePlan, grid: Grid) -> None:
    records = episode.annotations

    def column(name: str, values: list[Any], dtype: Any) -> None:
        group.create_dataset(
            name, data=np.array(values, dtype=object if dtype is TEXT else dtype), dtype=dtype
        )

    column("annotation", [a.annotation for a in records], np.int64)
    column("version", [a.version for a in records], np.int64)
    column("start_ns", [-1 if a.start_ns is None else a.start_ns for a in records], np.int64)
    column("end_ns", [-1 if a.end_ns is None else a.end_ns for a in records], np.int64)
    column(
        "start_index",
        [-1 if a.start_ns is None else grid.index_of(a.start_ns) for a in records],
        np.int64,
    )
    ends = [-1 if a.end_ns is None else grid.index_of(a.end_ns) for a in records]
    column("end_index", ends, np.int64)
    column("skill", [a.skill or "" for a in records], TEXT)
    column("description", [a.description for a in records], TEXT)
    column("labels", [";".join(a.labels) for a in records], TEXT)
    column("provenance", [a.provenance for a in records], TEXT)
    group.attrs["records"] = json.dumps([a.to_json() for a in records], ensure_ascii=False)
