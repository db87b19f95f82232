"""Episode formats: one module per format, each with ``scan(location)`` (index the episodes of a
file or folder from metadata) and ``open_episode(location, dataset_info)`` (lazy reader)."""

from __future__ import annotations

from types import ModuleType
from typing import Any

from ..locations import Location, locate
from . import hdf5, lerobot, mcap
from .base import EpisodeInfo, EpisodeReader, FormatError, Frame, SourceSegment, StreamInfo

FORMATS: dict[str, ModuleType] = {"mcap": mcap, "hdf5": hdf5, "lerobot": lerobot}

__all__ = [
    "FORMATS",
    "EpisodeInfo",
    "EpisodeReader",
    "FormatError",
    "Frame",
    "SourceSegment",
    "StreamInfo",
    "detect",
    "open_reader",
    "scan",
]


def detect(location: Location) -> ModuleType:
    """The format module for a file or folder, or :class:`FormatError` saying what was found."""
    if not location.exists():
        raise FormatError(f"{location.url}: no such file or folder")
    if location.isdir():
        if lerobot.is_dataset(location):
            return lerobot
        raise FormatError(
            f"{location.url}: a folder that is not a LeRobot dataset "
            f"(no meta/info.json); pass episode files or a dataset folder"
        )
    name = location.name.lower()
    for module in (mcap, hdf5):
        if name.endswith(module.SUFFIXES):
            return module
    with location.open() as stream:
        magic = stream.read(8)
    if magic.startswith(b"\x89MCAP"):
        return mcap
    if magic == b"\x89HDF\r\n\x1a\n":
        return hdf5
    raise FormatError(
        f"{location.url}: not an MCAP, HDF5 or LeRobot source"  # never quote what it holds
    )


def scan(source: str | Location, *, probe_cameras: bool = True) -> list[EpisodeInfo]:
    """Index the episodes in ``source`` (a path, ``file://`` or ``s3://`` URL, or Location).

    ``probe_cameras=False`` skips reading a frame to learn a camera's resolution where the
    format's metadata does not state it (MCAP without channel metadata): faster, esp. remote.
    """
    location = source if isinstance(source, Location) else locate(source)
    return detect(location).scan(location, probe_cameras=probe_cameras)


def open_reader(source_uri: str, format_name: str, info: dict[str, Any]) -> EpisodeReader:
    """Open the lazy reader of one registered episode (``info`` holds its stored index)."""
    family = format_name.split("-", 1)[0]
    module = FORMATS.get(family)
    if module is None:
        raise FormatError(f"no reader for format {format_name!r}")
    location = locate(source_uri.split("#", 1)[0])
    return module.open_episode(location, info)
