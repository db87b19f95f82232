"""The features of a LeRobot export: the state and action vectors mapped from the source's
signals, one video or image feature per camera, the index columns and, in v3.0, the language
columns; and their Hugging Face ``datasets`` description for the parquet schema."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pyarrow as pa

from ..errors import ValidationError
from . import lerobot_language as language
from .lerobot_video import feature_info
from .plan import Unfit
from .sampling import Grid, camera_pixels, mapping_for

NO_SIGNAL = (
    "has no signal to map to observation.state or action; "
    "pass mapping={'observation.state': ..., 'action': ...}"
)


def plan_features(layout: Any) -> None:
    """Fill ``layout``'s features: the state/action columns from the first episode's signals
    (through ``mapping``), the cameras and the annotation columns."""
    first = layout.units[0].episode
    layout.signals = mapping_for(first.streams, layout.mapping)
    if not layout.signals:
        raise Unfit(first.name, NO_SIGNAL)
    fields = {s["name"]: s.get("fields") or [] for s in first.streams}
    layout.carried = carried(layout)
    dims = {}
    data = first.open()
    try:
        for key, stream in [*layout.signals.items(), *((c, c) for c in layout.carried)]:
            _t, values = data.reader.signal(stream)
            dims[key] = values.shape[1]
            names = list(fields.get(stream) or [])
            layout.features[key] = {
                "dtype": layout.carried.get(key) or layout.dtype.name,
                "shape": [values.shape[1]],
                "names": names if len(names) == values.shape[1] else None,
            }
        if layout.cameras != "none":
            for camera in first.cameras:
                if camera.get("missing"):
                    continue
                key = "observation.images." + label(camera["name"])
                layout.camera_keys[camera["name"]] = key
                grid = Grid(np.array([0], dtype=np.int64))
                sample = next(camera_pixels(data, camera["name"], grid))
                height, width = sample.shape[0], sample.shape[1]
                if layout.cameras == "video":  # yuv420p needs even sides
                    height, width = height // 2 * 2, width // 2 * 2
                feature: dict[str, Any] = {
                    "dtype": "video" if layout.cameras == "video" else "image",
                    "shape": [height, width, 3],
                    "names": ["height", "width", "channels"],
                }
                if layout.cameras == "video":
                    feature["info"] = feature_info(layout.codec, height, width, layout.fps)
                layout.features[key] = feature
    finally:
        data.close()
    for unit in layout.units[1:]:  # every episode must have the same features
        mapped = mapping_for(unit.episode.streams, layout.mapping)
        if not mapped:
            raise Unfit(unit.episode.name, NO_SIGNAL)
        if set(mapped) != set(layout.signals):
            raise Unfit(
                unit.episode.name,
                f"maps {sorted(mapped)}, the first one {sorted(layout.signals)}: a LeRobot "
                "dataset needs the same features",
            )
        names = {c["name"] for c in unit.episode.cameras if not c.get("missing")}
        if layout.cameras != "none" and names != set(layout.camera_keys):
            raise Unfit(
                unit.episode.name,
                f"has cameras {sorted(names)}, the first one {sorted(layout.camera_keys)}: a "
                "LeRobot dataset needs the same cameras",
            )
    scalar = {"dtype": "float32", "shape": [1], "names": None}
    index = {"dtype": "int64", "shape": [1], "names": None}
    layout.features |= {
        "timestamp": scalar,
        "frame_index": index,
        "episode_index": index,
        "index": index,
        "task_index": index,
    }
    if layout.subtasks:
        layout.features["subtask_index"] = index
    if layout.language:
        kind = {"dtype": "language", "shape": [1], "names": None}
        layout.features |= {column: dict(kind) for column in language.COLUMNS}
    layout.dims = dims
    layout.schema_metadata = {
        "huggingface": json.dumps({"info": {"features": hf_features(layout)}})
    }


BOOKKEEPING = {"timestamp", "frame_index", "episode_index", "index", "task_index", "subtask_index"}


def carried(layout: Any) -> dict[str, str]:
    """The features a LeRobot source has besides state and action (rewards, dones,
    velocities...), by name with their dtype: carried as they are when every episode has them
    with one dtype; any other is named in the export's ``cleaned`` list, never dropped
    silently."""
    episodes = [unit.episode for unit in layout.units]
    mapped = set(layout.signals.values())
    per_episode = [
        {
            s["name"]: s.get("encoding") or "float32"
            for s in e.streams
            if e.format.startswith("lerobot")
            and s.get("kind") == "signal"
            and s["name"] not in mapped | BOOKKEEPING | set(layout.signals)
        }
        for e in {e.name: e for e in episodes}.values()
    ]
    everywhere = {
        name: dtype
        for name, dtype in per_episode[0].items()
        if all(found.get(name) == dtype for found in per_episode)
    }
    for name in sorted({n for found in per_episode for n in found} - set(everywhere)):
        said = f"feature {name} is not carried: not every episode has it (with one dtype)"
        if said not in layout.plan.cleaned:  # the export checks before it writes
            layout.plan.cleaned.append(said)
    return everywhere


def hf_features(layout: Any) -> dict[str, Any]:
    """The ``datasets`` features of the parquet columns (``Sequence`` in v2.1, read by
    datasets 3; ``List`` in v3.0, read by datasets 4), as lerobot writes them."""
    sequence = "List" if layout.version == "v3.0" else "Sequence"
    out: dict[str, Any] = {}
    for key, feature in layout.features.items():
        dtype = feature["dtype"]
        if dtype == "video" or key in language.COLUMNS:
            continue
        if dtype == "image":
            out[key] = {"_type": "Image"}
        elif key in layout.carried and feature["shape"] == [1]:  # one value: a scalar column
            out[key] = {"dtype": dtype, "_type": "Value"}
        elif key in layout.signals or key in layout.carried:
            value = {"dtype": dtype, "_type": "Value"}
            out[key] = {"feature": value, "length": feature["shape"][0], "_type": sequence}
        else:
            out[key] = {"dtype": dtype, "_type": "Value"}
    if layout.language:
        out |= language.hf_feature()
    return out


def label(name: str) -> str:
    """A short feature name for a camera topic or path (``/cam/wrist/image`` → ``cam_wrist``)."""
    generic = {"image", "images", "compressed", "camera", "observation", "observations", "raw"}
    parts = [p for p in name.replace(".", "/").split("/") if p and p not in generic]
    return "_".join(parts) or "camera"


def carried_column(values: np.ndarray, dtype: str, dims: int) -> pa.Array:
    """A carried feature's column: its source dtype back (readers give float64), a scalar
    column for a one-value feature, a fixed-size list otherwise."""
    kind = np.dtype("bool" if dtype == "bool" else dtype)
    typed = values != 0 if kind == np.bool_ else values.astype(kind)
    if values.shape[1] != dims:
        raise ValidationError(f"a carried feature has {values.shape[1]} values, not {dims}")
    if dims == 1:
        return pa.array(typed[:, 0])
    return pa.FixedSizeListArray.from_arrays(pa.array(typed.ravel()), dims)
