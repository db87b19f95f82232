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

import json
import shutil
import traceback
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from ..access import _text, events
from ..access._inputs import check_call
from ..access.workflow import Role, require_supervisor
from ..errors import ValidationError
from ..library import settings
from ..store.locations import locate, require_within, scrub
from ..store.models import Export, ExportItem, ExportStatus, utcnow
from ..store.states import EXPORTS
from . import plan as planning
from . import staging
from .history import diff, get_export, list_exports
from .registry import check_options, exporter, precheck

__all__ = [
    "abandon",
    "check_destination",
    "diff",
    "export",
    "get_export",
    "list_exports",
]


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
    skip_unfit: bool = False,
    options: dict[str, Any] | None = None,
    progress: Callable[[float | None, str | None], None] | None = None,
    job: int | None = None,
) -> Export:
    """Export ``tasks`` as ``format`` to ``destination`` (a folder: local path or fsspec URL).

    ``only_new`` leaves out the annotations the last completed export of the same format to the
    same destination already held at the same version; ``release`` names the export as a
    version of a project's training data (its parent is the previous release of that name).
    ``options`` go to the format's writer (``layout``, ``rate_hz``, ``mapping``, ``chunk_s``...).
    An episode that does not fit the format (no signal to map, other cameras or another frame
    rate than the rest) is refused, naming it; ``skip_unfit=True`` leaves such episodes out
    instead, each named with its reason in the record's ``cleaned`` list and the manifest.
    Returns the export record; raises with a clear message (and writes nothing) on bad input.
    ``job`` is the background job running it (set by the queue): if its worker dies, the
    record is marked failed and its staging folder removed when the job is reaped.
    """
    check_call(
        export,
        (tasks, format, destination),
        {"datasets": datasets, "changed_between": changed_between, "options": options},
    )
    if release is not None:
        _text.name(release, "release name")
    writer = exporter(format)
    label = format if isinstance(format, str) else getattr(format, "__name__", "custom")
    options = _with_default_rate(workspace, writer, options or {})
    check_options(label, writer, options)
    target = check_destination(workspace, destination, overwrite=overwrite)
    recorded = {
        "any_status": any_status,
        "only_new": only_new,
        "datasets": sorted(int(d) for d in datasets) if datasets is not None else None,
        "changed_between": [v.isoformat() if v else None for v in changed_between or (None, None)],
        "include_invalid": include_invalid,
        "skip_unfit": skip_unfit,
        "writer": options,
    } | ({"job": job} if job is not None else {})
    chosen = {
        "any_status": any_status,
        "datasets": datasets,
        "changed_between": changed_between,
        "include_invalid": include_invalid,
    }
    built, export_id, author = _begin(
        workspace, tasks, writer, label, target, options, recorded, chosen, release=release
    )
    built.options = {k: v for k, v in recorded.items() if k != "job"}
    built.progress = progress
    _sweep_staging(workspace, target)
    if progress is not None:
        progress(0.05, f"export #{export_id}: {len(built.episodes)} episode(s) to {target.url}")
    try:
        size, extra, files = staging.write(
            writer, built, target, export_id, overwrite, author, label, recorded, release
        )
    except BaseException as exc:  # record the failure, leave the destination untouched
        _failed(workspace, export_id, exc)
        raise
    return _completed(workspace, export_id, built, size, extra, files)


def _begin(
    workspace: Any,
    tasks: Sequence[int] | int,
    writer: Any,
    label: str,
    target: Any,
    options: dict[str, Any],
    recorded: dict[str, Any],
    chosen: dict[str, Any],
    *,
    release: str | None,
) -> tuple[planning.Plan, int, str]:
    """The export planned, checked against its writer and recorded as running (by a
    supervisor): its plan, its id and who runs it."""
    with workspace.transaction() as session:
        me = workspace.me(session)
        require_supervisor(me, "export training data")
        previous = _last_completed(session, label, target.url) if recorded["only_new"] else None
        exclude = _exported_to(session, label, target.url) if previous else None
        parent = _last_release(session, release) if release else None
        tasks = [tasks] if isinstance(tasks, int) else tasks
        built = planning.build(session, tasks, exclude=exclude, **chosen)
        # a bad option: refused, nothing recorded
        _fit(writer, built, options, recorded["skip_unfit"])
        record = Export(
            format=label,
            destination=target.url,
            options=json.loads(json.dumps(recorded, default=str)),
            status=ExportStatus.RUNNING,
            created_by=me.id,
            release=release,
            release_version=_next_version(parent) if release else None,
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
            to_state=ExportStatus.RUNNING,
            note=target.url,
            format=label,
        )
    return built, export_id, author


def _failed(workspace: Any, export_id: int, exc: BaseException) -> None:
    with workspace.transaction() as session:
        row = session.get(Export, export_id)
        row.status = EXPORTS.move(row.status, "fail", name=f"export #{export_id}")
        row.finished_at = utcnow()
        row.error = scrub("".join(traceback.format_exception_only(exc)).strip()[:4000])
        _finished(session, workspace, export_id, "fail")


def _completed(
    workspace: Any,
    export_id: int,
    built: planning.Plan,
    size: int,
    extra: dict[str, Any],
    files: Any,
) -> Export:
    """The export's record completed: size, counts, what was cleaned, its files and which
    annotation versions it holds (what ``only_new`` leaves out next time)."""
    with workspace.transaction() as session:
        row = session.get(Export, export_id)
        row.status = EXPORTS.move(row.status, "complete", name=f"export #{export_id}")
        row.finished_at, row.size_bytes = utcnow(), size
        _finished(session, workspace, export_id, "complete")
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


def _fit(writer: Any, built: planning.Plan, options: dict[str, Any], skip: bool) -> None:
    """Check the writer's options against the plan; with ``skip``, episodes that do not fit
    the format are left out one by one (each named, with its reason, in ``cleaned``)."""
    while True:
        try:
            precheck(writer, built, options)
            return
        except planning.Unfit as unfit:
            if not skip:
                raise
            built.leave_out(unfit.episode, unfit.reason)
            if not built.episodes:
                raise ValidationError(
                    f"no episode fits this format; {'; '.join(built.cleaned[-3:])}"
                ) from None


def check_destination(workspace: Any, destination: str | Path, *, overwrite: bool = False) -> Any:
    """The export's target, once this workspace's user may export there: a manager or admin,
    a place inside the allowed roots, and a folder that is new or empty unless ``overwrite``
    (and then one an export wrote). Asked before anything is written, or queued."""
    target = locate(destination)
    with workspace.transaction(write=False) as session:
        me = workspace.me(session)
        require_supervisor(me, "export training data")
        require_within(target, admin=me.role == Role.ADMIN, what="export destination")
    if target.exists() and not staging.empty_dir(target):
        if not overwrite:
            raise ValidationError(
                f"{target.url} already exists; choose a new destination or replace what is "
                "there (overwrite=True; on the Export page: 'replace what is at the destination')"
            )
        staging.check_replaceable(destination, target)
    return target


def _finished(session: Session, workspace: Any, export_id: int, action: str) -> None:
    events.record(
        session,
        by=workspace.me(session),
        object_type="export",
        object_id=export_id,
        action=action,
        from_state=ExportStatus.RUNNING,
        to_state=EXPORTS.target(action),
    )


def _last_completed(session: Session, label: str, url: str) -> Export | None:
    return session.scalar(
        select(Export)
        .where(
            Export.format == label,
            Export.destination == url,
            Export.status == ExportStatus.COMPLETED,
        )
        .order_by(Export.id.desc())
        .limit(1)
    )


def _last_release(session: Session, name: str) -> Export | None:
    return session.scalar(
        select(Export)
        .where(Export.release == name, Export.status == ExportStatus.COMPLETED)
        .order_by(Export.release_version.desc())
        .limit(1)
    )


def _exported_to(session: Session, label: str, url: str) -> set[tuple[int, int]]:
    """(annotation, version) pairs every completed export of this format to ``url`` held."""
    rows = session.execute(
        select(ExportItem.annotation_id, ExportItem.annotation_version)
        .join(Export, Export.id == ExportItem.export_id)
        .where(
            Export.format == label,
            Export.destination == url,
            Export.status == ExportStatus.COMPLETED,
        )
    )
    return {(a, v) for a, v in rows}


def _sweep_staging(workspace: Any, target: Any) -> None:
    """Remove staging folders left beside ``target`` by exports that are no longer running
    (a worker killed mid-write leaves one behind)."""
    found = {}
    for folder in staging.partials(target):
        number = folder.name.rsplit(".partial-", 1)[1].split("-", 1)[0]
        if number.isdigit():
            found[int(number)] = folder
    if not found:
        return
    with workspace.transaction(write=False) as session:
        running = set(
            session.scalars(
                select(Export.id).where(Export.id.in_(found), Export.status == ExportStatus.RUNNING)
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
        for row in session.scalars(select(Export).where(Export.status.in_(EXPORTS.sources("reap"))))
        if row.options.get("job") in wanted
    ]
    for row in rows:
        before, row.status = row.status, EXPORTS.target("reap")
        row.finished_at, row.error = utcnow(), reason
        events.record(
            session,
            by=None,
            object_type="export",
            object_id=row.id,
            action="fail",
            from_state=before,
            to_state=row.status,
            note=reason,
        )
        for folder in staging.partials(locate(row.destination), row.id):
            shutil.rmtree(folder, ignore_errors=True)
    return [row.id for row in rows]


def _next_version(parent: Export | None) -> int:
    return (parent.release_version or 0) + 1 if parent else 1


def _with_default_rate(workspace: Any, writer: Any, options: dict[str, Any]) -> dict[str, Any]:
    """``options`` with the workspace's ``export_rate_hz`` setting as ``rate_hz`` when the writer
    takes one and the export gives none."""
    import inspect

    if "rate_hz" in options or "rate_hz" not in inspect.signature(writer).parameters:
        return options
    with workspace.transaction(write=False) as session:
        rate = settings.get(session, "export_rate_hz")
    return options if rate is None else options | {"rate_hz": rate}
