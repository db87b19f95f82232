"""Episode formats: one reader module per format, each with ``NAME``, ``scan(location)`` (index
the episodes of a file or folder from metadata) and ``open_episode(location, dataset_info)``
(lazy reader), and how it is recognised: ``SUFFIXES`` and ``MAGIC`` (a file's first bytes) for
files, ``is_dataset(location)`` for folders.

Readers by name: the built-in ones, plugins from the ``annotation_kit.readers`` entry point
group (a module path), and any registered at run time (:func:`register`).
"""

from __future__ import annotations

from importlib import import_module
from types import ModuleType
from typing import Any

from ..store._plugins import installed
from ..store.locations import Location, locate
from .base import EpisodeInfo, EpisodeReader, FormatError, Frame, SourceSegment, StreamInfo

GROUP = "annotation_kit.readers"
BUILTIN = {
    "mcap": "annotation_kit.formats.mcap",
    "hdf5": "annotation_kit.formats.hdf5",
    "lerobot": "annotation_kit.formats.lerobot",
}
_registered: dict[str, ModuleType] = {}

__all__ = [
    "EpisodeInfo",
    "EpisodeReader",
    "FormatError",
    "Frame",
    "SourceSegment",
    "StreamInfo",
    "detect",
    "open_reader",
    "reader",
    "readers",
    "register",
    "scan",
    "suffixes",
]


def register(module: ModuleType) -> None:
    """Make ``module`` (with ``NAME``, ``scan``, ``open_episode``...) a reader in this process."""
    for needed in ("NAME", "scan", "open_episode"):
        if not hasattr(module, needed):
            raise ValueError(f"a reader module needs {needed}; {module.__name__} has none")
    _registered[module.NAME] = module


def readers() -> dict[str, ModuleType]:
    """Every reader by name: built-in, installed plugins and registered ones."""
    found = {name: import_module(path) for name, path in BUILTIN.items()}
    for entry in installed(GROUP):
        found.setdefault(entry.name, import_module(entry.value))
    return found | _registered


def reader(format_name: str) -> ModuleType:
    """The reader of a stored format name (``hdf5-robomimic`` is read by ``hdf5``)."""
    module = readers().get(format_name.split("-", 1)[0])
    if module is None:
        raise FormatError(f"no reader for format {format_name!r}")
    return module


def suffixes() -> tuple[str, ...]:
    """The file name endings of every reader's episode files."""
    return tuple(s for module in readers().values() for s in getattr(module, "SUFFIXES", ()))


def detect(location: Location) -> ModuleType:
    """The reader of a file or folder, or :class:`FormatError` saying what was found."""
    if not location.exists():
        raise FormatError(f"{location.url}: no such file or folder")
    known = readers().values()
    if location.isdir():
        for module in known:
            if getattr(module, "is_dataset", None) and module.is_dataset(location):
                return module
        raise FormatError(
            f"{location.url}: a folder that is not a LeRobot dataset "
            f"(no meta/info.json); pass episode files or a dataset folder"
        )
    name = location.name.lower()
    for module in known:
        if name.endswith(getattr(module, "SUFFIXES", ())):
            return module
    with location.open() as stream:
        head = stream.read(16)
    for module in known:
        magic = getattr(module, "MAGIC", None)
        if magic and head.startswith(magic):
            return module
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
    location = locate(source_uri.split("#", 1)[0])
    return reader(format_name).open_episode(location, info)
