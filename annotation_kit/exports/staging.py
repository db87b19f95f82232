"""An export's folder on its way to the destination: written into a staging folder beside it
(``.<name>.partial-<id>-…``; a local temporary folder for an fsspec URL), given its
``manifest.json``, and moved into place only when complete. ``overwrite`` replaces only a
folder a previous export of ours wrote, never a file, a symbolic link or anything else.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Any

from ..errors import ValidationError
from ..store.models import utcnow
from . import plan as planning
from .registry import write_with

MANIFEST = "manifest.json"


def write(
    writer: Any,
    built: planning.Plan,
    target: Any,
    export_id: int,
    overwrite: bool,
    author: str,
    label: str,
    recorded: dict[str, Any],
    release: str | None,
) -> tuple[int, dict[str, Any], dict[str, str]]:
    """Write an export into a staging folder, check it, then move it to ``target`` whole (or leave
    nothing there)."""
    final = Path(target.path)  # where a local export goes (an object store's is target.path)
    if target.is_local:
        final.parent.mkdir(parents=True, exist_ok=True)
        staging = final.parent / f".{final.name}.partial-{export_id}-{uuid.uuid4().hex[:6]}"
    else:
        staging = Path(tempfile.mkdtemp(prefix="annotation-kit-export-")) / "out"
    staging.mkdir(parents=True)
    try:
        extra = write_with(writer, built, staging, dict(recorded["writer"]))
        files = manifest(staging, built, export_id, author, label, release)
        size = sum(p.stat().st_size for p in staging.rglob("*") if p.is_file())
        if target.is_local:
            if final.exists():
                if not overwrite and not empty_dir(target):
                    raise ValidationError(f"{target.url} appeared while exporting; kept as it was")
                old = final.parent / f".{final.name}.replaced-{export_id}"
                os.replace(final, old)
                os.replace(staging, final)
                shutil.rmtree(old, ignore_errors=True)
            else:
                os.replace(staging, final)
        else:  # object stores cannot rename: upload aside, copy in, the manifest last
            fs, root = target.fs, target.path.rstrip("/")
            partial = f"{root}.partial-{export_id}"
            fs.put(str(staging), partial, recursive=True)
            try:
                if overwrite and target.exists():
                    fs.rm(root, recursive=True)
                names = [str(p.relative_to(staging)) for p in staging.rglob("*") if p.is_file()]
                for name in sorted(names, key=lambda n: (n == MANIFEST, n)):
                    fs.copy(f"{partial}/{name}", f"{root}/{name}")
            finally:
                fs.rm(partial, recursive=True)
    finally:
        if staging.exists():
            shutil.rmtree(staging if target.is_local else staging.parent, ignore_errors=True)
    return size, extra, files


def manifest(
    folder: Path,
    built: planning.Plan,
    export_id: int,
    author: str,
    label: str,
    release: str | None,
) -> dict[str, str]:
    """``manifest.json``: every episode and annotation included, with checksums, the skill
    library, the options and what was cleaned. Returns the file checksums."""
    files = {
        str(p.relative_to(folder)): sha256(p) for p in sorted(folder.rglob("*")) if p.is_file()
    }
    manifest = {
        "export": export_id,
        "format": label,
        "release": release,
        "created_at": utcnow().isoformat(),
        "created_by": author,
        "options": built.options,
        "tasks": built.tasks,
        "skill_library": built.skills,
        "counts": built.counts(),
        "cleaned": built.cleaned,
        "episodes": [
            {
                "dataset": e.dataset,
                "name": e.name,
                "source_uri": e.source_uri,
                "duration_ns": e.duration_ns,
                "annotations": len(e.annotations),
            }
            for e in built.episodes
        ],
        "annotations": [
            {
                "annotation": a.annotation,
                "version": a.version,
                "dataset": a.dataset,
                "sha256": hashlib.sha256(
                    json.dumps(a.to_json(), sort_keys=True).encode()
                ).hexdigest(),
            }
            for a in built.annotations
        ],
        "files": files,
    }
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=1, ensure_ascii=False))
    return files


def sha256(path: Path) -> str:
    """The SHA-256 hex digest of a file, read 1 MB at a time."""
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def empty_dir(target: Any) -> bool:
    """Whether ``target`` is an existing, empty folder."""
    return target.isdir() and not target.fs.ls(target.path)


def check_replaceable(destination: str | Path, target: Any) -> None:
    """``overwrite`` replaces only a folder that a previous export of ours wrote (its
    ``manifest.json`` says so), reached without a symbolic link: never a file, a link, or a
    folder of anything else (``.``, ``/``, a home)."""
    refuse = (
        f"{target.url} is not a previous annotation_kit export, so overwrite=True will not "
        "replace it"
    )
    if target.is_local and Path(str(destination).removeprefix("file://")).expanduser().is_symlink():
        raise ValidationError(f"{refuse}: it is a symbolic link")
    if not target.isdir():
        raise ValidationError(f"{refuse}: it is a file")
    manifest = target.child(MANIFEST)
    try:
        with manifest.open() as stream:
            written = json.load(stream)
    except (OSError, ValueError):
        raise ValidationError(f"{refuse}: it has no manifest.json of ours") from None
    if not isinstance(written, dict) or not {"export", "format", "files"} <= set(written):
        raise ValidationError(f"{refuse}: its manifest.json is not one of ours")


def partials(target: Any, export_id: int | None = None) -> list[Path]:
    """The staging folders beside a local destination (of one export, or of any)."""
    if not target.is_local:
        return []
    final = Path(target.path)
    pattern = f".{final.name}.partial-{'' if export_id is None else f'{export_id}-'}*"
    return [p for p in final.parent.glob(pattern) if p.is_dir() and not p.is_symlink()]
