"""Running an export: record it, build the plan, write into a staging folder beside the
destination, move the folder into place when complete, record the outcome.

A failed or interrupted export leaves the destination as it was: the writer only ever sees the
staging folder (``.<name>.partial-<id>`` beside a local destination, renamed into place; a local
temporary folder for an fsspec URL, uploaded beside the destination when complete and copied in
with ``manifest.json`` last, since object stores cannot rename: there an export is complete
when its manifest is present). Every export is recorded with who, when,
format, options, counts, size, status and where, and lists what it included (annotation ids and
versions), which is what "only new or changed" and release diffs compare.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import traceback
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from .. import _text, events
from ..database import readonly
from ..errors import NotFound, ValidationError
from ..locations import locate, require_within, scrub
from ..models import Export, ExportItem, utcnow
from ..workflow import Role, require_supervisor
from . import plan as planning
from .registry import check_options, exporter, write_with

__all__ = [
    "abandon",
    "diff",
    "export",
    "get_export",
    "list_exports",
]

MANIFEST = "manifest.json"


def export(
    workspace: Any,
    tasks: Sequence[int] | int,
    format: str | Callable[..., Any],
    destination: str | Path,
    *,
    any_status: bool = False,
    only_new: bool = False,
    datasets: Sequence[int] | None = None,
    changed_between: tuple[datetime | None, datetime | None] | None = None,
    include_invalid: bool = False,
    release: str | None = None,
    overwrite: bool = False,
    options: dict[str, Any] | None = None,
    progress: Callable[[float | None, str | None], None] | None = None,
    job: int | None = None,
) -> Export:
    """Export ``tasks`` as ``format`` to ``destination`` (a folder: local path or fsspec URL).

    ``only_new`` leaves out the annotations the last completed export of the same format to the
    same destination already held at the same version; ``release`` names the export as a
    version of a project's training data (its parent is the previous release of that name).
    ``options`` go to the format's writer (``layout``, ``rate_hz``, ``mapping``, ``chunk_s``...).
    Returns the export record; raises with a clear message (and writes nothing) on bad input.
    ``job`` is the background job running it (set by the queue): if its worker dies, the
    record is marked failed and its staging folder removed when the job is reaped.
    """
    writer = exporter(format)
    label = format if isinstance(format, str) else getattr(format, "__name__", "custom")
    check_options(label, writer, options or {})
    target = locate(destination)
    with workspace.transaction(write=False) as session:  # before the destination is touched
        me = workspace.me(session)
        require_supervisor(me, "export training data")
        require_within(target, admin=me.role == Role.ADMIN, what="export destination")
    if target.exists() and not _empty_dir(target):
        if not overwrite:
            raise ValidationError(
                f"{target.url} already exists; choose a new destination or pass overwrite=True"
            )
        _check_replaceable(destination, target)
    recorded = {
        "any_status": any_status,
        "only_new": only_new,
        "datasets": sorted(int(d) for d in datasets) if datasets is not None else None,
        "changed_between": [
            v.isoformat() if v else None for v in (changed_between or (None, None))
        ],
        "include_invalid": include_invalid,
        "writer": options or {},
    } | ({"job": job} if job is not None else {})
    with workspace.transaction() as session:
        me = workspace.me(session)
        require_supervisor(me, "export training data")
        previous = _last_completed(session, label, target.url) if only_new else None
        exclude = _exported_to(session, label, target.url) if previous else None
        parent = _last_release(session, release) if release else None
        built = planning.build(
            session,
            [tasks] if isinstance(tasks, int) else tasks,
            any_status=any_status,
            datasets=datasets,
            changed_between=changed_between,
            include_invalid=include_invalid,
            exclude=exclude,
        )
        record = Export(
            format=label,
            destination=target.url,
            options=json.loads(json.dumps(recorded, default=str)),
            status="running",
            created_by=me.id,
            release=release,
            release_version=(parent.release_version + 1 if parent else 1) if release else None,
            parent_id=parent.id if parent else (previous.id if previous else None),
            tasks=[t["id"] for t in built.tasks],
        )
        session.add(record)
        session.flush()
        export_id, author = record.id, me.name
        events.record(
            session,
            by=me,
            object_type="export",
            object_id=export_id,
            action="export",
            to_state="running",
            note=target.url,
            format=label,
        )
    built.options = {k: v for k, v in recorded.items() if k != "job"}
    built.progress = progress
    _sweep_staging(workspace, target)
    if progress is not None:
        progress(0.05, f"export #{export_id}: {len(built.episodes)} episode(s) to {target.url}")
    try:
        size, extra, files = _write(
            writer, built, target, export_id, overwrite, author, label, recorded, release
        )
    except BaseException as exc:  # record the failure, leave the destination untouched
        with workspace.transaction() as session:
            row = session.get(Export, export_id)
            row.status, row.finished_at = "failed", utcnow()
            row.error = scrub("".join(traceback.format_exception_only(exc)).strip()[:4000])
            _finished(session, workspace, export_id, "failed")
        raise
    with workspace.transaction() as session:
        row = session.get(Export, export_id)
        row.status, row.finished_at, row.size_bytes = "completed", utcnow(), size
        _finished(session, workspace, export_id, "completed")
        row.counts = built.counts() | extra
        row.cleaned = built.cleaned
        row.files = files
        items = [
            {
                "export_id": export_id,
                "annotation_id": a.annotation,
                "annotation_version": a.version,
                "dataset_id": a.dataset,
            }
            for a in built.annotations
        ]
        if items:
            session.execute(insert(ExportItem), items)
        session.flush()
        session.expunge(row)
        return row


def _write(
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
    if target.is_local:
        final = Path(target.path)
        final.parent.mkdir(parents=True, exist_ok=True)
        staging = final.parent / f".{final.name}.partial-{export_id}-{uuid.uuid4().hex[:6]}"
    else:
        staging = Path(tempfile.mkdtemp(prefix="annotation-kit-export-")) / "out"
    staging.mkdir(parents=True)
    try:
        extra = write_with(writer, built, staging, dict(recorded["writer"]))
        files = _manifest(staging, built, export_id, author, label, release)
        size = sum(p.stat().st_size for p in staging.rglob("*") if p.is_file())
        if target.is_local:
            if final.exists():
                if not overwrite and not _empty_dir(target):
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


def _manifest(
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
        str(p.relative_to(folder)): _sha256(p) for p in sorted(folder.rglob("*")) if p.is_file()
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


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _finished(session: Session, workspace: Any, export_id: int, state: str) -> None:
    events.record(
        session,
        by=workspace.me(session),
        object_type="export",
        object_id=export_id,
        action="complete" if state == "completed" else "fail",
        from_state="running",
        to_state=state,
    )


def _empty_dir(target: Any) -> bool:
    return target.isdir() and not target.fs.ls(target.path)


def _check_replaceable(destination: str | Path, target: Any) -> None:
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


def _last_completed(session: Session, label: str, url: str) -> Export | None:
    return session.scalar(
        select(Export)
        .where(Export.format == label, Export.destination == url, Export.status == "completed")
        .order_by(Export.id.desc())
        .limit(1)
    )


def _last_release(session: Session, name: str) -> Export | None:
    return session.scalar(
        select(Export)
        .where(Export.release == name, Export.status == "completed")
        .order_by(Export.release_version.desc())
        .limit(1)
    )


def _exported_to(session: Session, label: str, url: str) -> set[tuple[int, int]]:
    """(annotation, version) pairs every completed export of this format to ``url`` held."""
    rows = session.execute(
        select(ExportItem.annotation_id, ExportItem.annotation_version)
        .join(Export, Export.id == ExportItem.export_id)
        .where(Export.format == label, Export.destination == url, Export.status == "completed")
    )
    return {(a, v) for a, v in rows}


def _items(session: Session, export_id: int) -> dict[int, int]:
    return dict(
        session.execute(
            select(ExportItem.annotation_id, ExportItem.annotation_version).where(
                ExportItem.export_id == export_id
            )
        ).all()
    )


# ----- records ----------------------------------------------------------------------------------


@readonly
def list_exports(session: Session, *, limit: int = 100) -> Sequence[Export]:
    """Exports, newest first."""
    limit = _text.at_least(limit, "limit")
    return session.scalars(select(Export).order_by(Export.id.desc()).limit(limit)).all()


@readonly
def get_export(session: Session, export_id: int) -> Export:
    found = session.get(Export, export_id)
    if found is None:
        raise NotFound(f"no export with id {export_id}")
    return found


@readonly
def diff(session: Session, old: int, new: int) -> dict[str, list[int]]:
    """What changed between two exports (e.g. two releases): annotations added, removed and
    changed (a different version), and episodes added and removed."""
    a = _items(session, get_export(session, old).id)
    b = _items(session, get_export(session, new).id)
    episodes = {
        i: set(session.scalars(select(ExportItem.dataset_id).where(ExportItem.export_id == i)))
        for i in (old, new)
    }
    return {
        "added": sorted(set(b) - set(a)),
        "removed": sorted(set(a) - set(b)),
        "changed": sorted(i for i in set(a) & set(b) if a[i] != b[i]),
        "episodes_added": sorted(episodes[new] - episodes[old]),
        "episodes_removed": sorted(episodes[old] - episodes[new]),
    }


def _staging_of(target: Any, export_id: int | None = None) -> list[Path]:
    """The staging folders beside a local destination (of one export, or of any)."""
    if not target.is_local:
        return []
    final = Path(target.path)
    pattern = f".{final.name}.partial-{'' if export_id is None else f'{export_id}-'}*"
    return [p for p in final.parent.glob(pattern) if p.is_dir() and not p.is_symlink()]


def _sweep_staging(workspace: Any, target: Any) -> None:
    """Remove staging folders left beside ``target`` by exports that are no longer running
    (a worker killed mid-write leaves one behind)."""
    found = {}
    for folder in _staging_of(target):
        number = folder.name.rsplit(".partial-", 1)[1].split("-", 1)[0]
        if number.isdigit():
            found[int(number)] = folder
    if not found:
        return
    with workspace.transaction(write=False) as session:
        running = set(
            session.scalars(
                select(Export.id).where(Export.id.in_(found), Export.status == "running")
            )
        )
    for export_id, folder in found.items():
        if export_id not in running:
            shutil.rmtree(folder, ignore_errors=True)


def abandon(session: Session, job_ids: Sequence[int], reason: str) -> list[int]:
    """Mark the running exports of ``job_ids`` (jobs whose worker died) failed, and remove
    their staging folders. Returns the export ids."""
    if not job_ids:
        return []
    wanted = set(job_ids)
    rows = [
        row
        for row in session.scalars(select(Export).where(Export.status == "running"))
        if row.options.get("job") in wanted
    ]
    for row in rows:
        row.status, row.finished_at, row.error = "failed", utcnow(), reason
        events.record(
            session,
            by=None,
            object_type="export",
            object_id=row.id,
            action="fail",
            from_state="running",
            to_state="failed",
            note=reason,
        )
        for folder in _staging_of(locate(row.destination), row.id):
            shutil.rmtree(folder, ignore_errors=True)
    return [row.id for row in rows]
