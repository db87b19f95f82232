"""What a robomimic source already has, carried into a robomimic export unchanged.

A robomimic demo holds more than annotation_kit reads as signals: its own ``obs/*`` keys,
``next_obs/*``, ``rewards``, ``dones``, the simulator ``states``, ``action_dict/*`` and
attributes such as ``model_file``; the file's ``data`` group has ``env_args``. An export to
the robomimic layout copies every one of them (the rows of the export's frames: all of them,
bit for bit, at the source's own rate) and derives only what the source lacks, saying so in
the export's ``cleaned`` list. A model trained on the export sees the source's rewards.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import h5py
import numpy as np

from ..store.locations import locate
from .plan import EpisodePlan

SKIPPED = ("annotations",)
"""Groups of a source demo that are not carried: an earlier export's annotations (this export
writes its own)."""


@contextmanager
def robomimic_source(episode: EpisodePlan) -> Iterator[tuple[h5py.Group, float] | None]:
    """The source demo's group and its rate, while open; None when the episode is not a
    robomimic demo."""
    locator = episode.meta.get("locator") or {}
    if not episode.format.startswith("hdf5-robomimic") or "group" not in locator:
        yield None
        return
    with locate(episode.source_uri.split("#", 1)[0]).open() as stream, h5py.File(stream) as f:
        group = f[locator["group"]]
        assert isinstance(group, h5py.Group)
        yield group, float(locator.get("fps") or episode.meta.get("fps") or 20.0)


def env_args(episode: EpisodePlan) -> str | None:
    """The ``env_args`` of a robomimic source's file (None when it has none)."""
    if not episode.format.startswith("hdf5-robomimic"):
        return None
    with locate(episode.source_uri.split("#", 1)[0]).open() as stream, h5py.File(stream) as f:
        data = f.get("data")
        value = data.attrs.get("env_args") if isinstance(data, h5py.Group) else None
    if isinstance(value, bytes):
        return value.decode()
    return None if value is None else str(value)


def copy_demo(source: h5py.Group, rate: float, group: h5py.Group, t_ns: np.ndarray) -> list[str]:
    """Copy every dataset and attribute of ``source`` into ``group``, each per-sample dataset
    taking the source sample nearest to each exported frame (every sample, unchanged, when the
    export keeps the source's rate). Returns the names copied."""
    from .sampling import Grid

    length = int(source.attrs.get("num_samples", 0)) or _longest(source)
    times = np.round(np.arange(length) * (1e9 / rate)).astype(np.int64)
    rows = Grid(t_ns).nearest(times)
    same = len(rows) == length and np.array_equal(rows, np.arange(length))
    copied: list[str] = []

    def visit(name: str, item: Any) -> None:
        if not isinstance(item, h5py.Dataset) or name.split("/", 1)[0] in SKIPPED:
            return
        if same or not item.ndim or item.shape[0] != length:
            source.copy(item, group, name=name)  # bit for bit, with its attributes
        else:
            made = group.create_dataset(name, data=item[()][rows])
            for key, value in item.attrs.items():
                made.attrs[key] = value
        copied.append(name)

    source.visititems(visit)
    for key, value in source.attrs.items():
        group.attrs[key] = value
    return copied


def _longest(source: h5py.Group) -> int:
    lengths: list[int] = []
    source.visititems(
        lambda _n, item: (
            lengths.append(item.shape[0]) if isinstance(item, h5py.Dataset) and item.ndim else None
        )
    )
    return max(lengths, default=0)
