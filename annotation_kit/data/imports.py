"""Importing episodes: index files and folders (local or object storage) into the workspace.

Each file is scanned from its metadata outside any transaction, then its episodes are registered
in one short transaction of their own: a bad file (corrupt, truncated, unknown layout) becomes a
line in the report and registers nothing, while the rest of the batch goes on. Importing the same
source again updates its datasets instead of adding copies.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from tqdm.auto import tqdm

from ..access import events, projects
from ..access.workflow import Role
from ..errors import AnnotationKitError, ValidationError
from ..formats import FormatError, detect, readers, suffixes
from ..formats.base import EpisodeInfo
from ..library import settings
from ..store.locations import Location, locate, require_within, scrub
from ..store.models import Dataset
from . import checks, datasets

if TYPE_CHECKING:
    from ..workspace import Workspace


@dataclass
class FileResult:
    """What happened to one file or dataset folder."""

    source: str
    created: list[int] = field(default_factory=list)
    updated: list[int] = field(default_factory=list)
    unchanged: list[int] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def ok(self) -> bool:
        """Whether the file was imported without an error."""
        return self.error is None


@dataclass
class ImportReport:
    """What an import did, file by file (printable)."""

    files: list[FileResult] = field(default_factory=list)

    @property
    def failed(self) -> list[FileResult]:
        """The files that could not be imported, with their errors."""
        return [f for f in self.files if not f.ok]

    @property
    def dataset_ids(self) -> list[int]:
        """Ids of the datasets the import created, updated or found unchanged."""
        return [i for f in self.files for i in (*f.created, *f.updated, *f.unchanged)]

    def __str__(self) -> str:
        created = sum(len(f.created) for f in self.files)
        updated = sum(len(f.updated) for f in self.files)
        same = sum(len(f.unchanged) for f in self.files)
        lines = [
            f"{len(self.files)} source(s): {created} dataset(s) created, {updated} updated, "
            f"{same} unchanged, {len(self.failed)} failed"
        ]
        lines += [f"  FAILED {f.error}" for f in self.failed]
        for f in self.files:
            lines += [f"  note {f.source}: {p}" for p in f.problems[:3]]
            if len(f.problems) > 3:
                lines.append(f"  note {f.source}: ... and {len(f.problems) - 3} more like these")
        return "\n".join(lines)


def expand(sources: Iterable[str | Path]) -> list[Location]:
    """Files and LeRobot dataset folders named by ``sources`` (folders are searched)."""
    found: list[Location] = []
    endings = suffixes()
    for source in sources:
        location = locate(source)
        if location.isdir() and not _is_dataset(location):
            for path in sorted(location.fs.find(location.path, withdirs=True)):
                child = (
                    locate(path)  # on disk: where a symbolic link points (roots are checked)
                    if location.is_local and not location.url.startswith("storage://")
                    else location.child(path[len(location.path.rstrip("/")) :].lstrip("/"))
                )
                if path.lower().endswith(endings) or (
                    location.fs.isdir(path) and _is_dataset(child)
                ):
                    found.append(child)
        else:
            found.append(location)
    return found


def _is_dataset(location: Location) -> bool:
    """A folder that a reader takes whole (a LeRobot dataset)."""
    return any(
        getattr(module, "is_dataset", None) and module.is_dataset(location)
        for module in readers().values()
    )


def planned(
    session: Session,
    info: EpisodeInfo,
    *,
    project: str | int | None,
    tags: Sequence[str],
    existing: Dataset | None,
) -> dict[str, Any] | None:
    """The checked column values of one episode's index (None: ``existing`` already holds
    them), or a :class:`ValidationError` naming what does not fit — before anything is added."""
    meta = {
        **info.meta,
        "locator": info.locator,
        "problems": info.problems,
        "segments": [vars(s) for s in info.segments],
    }
    values: dict[str, Any] = {
        "name": info.name[:200],
        "format": info.format,
        "duration_ns": info.duration_ns,
        "start_time_ns": info.start_time_ns,
        "size_bytes": info.size_bytes,
        "robot": info.robot,
        "streams": [s.to_json() for s in info.streams if s.kind != "camera"],
        "cameras": [s.to_json() for s in info.cameras],
        "meta": meta,
    }
    project_id = projects.get(session, project).id if project is not None else None
    if (
        existing is not None
        and all(getattr(existing, k) == v for k, v in values.items())
        and (set(tags) <= set(existing.tags))
        and project_id in (None, existing.project_id)
    ):
        return None
    merged_tags: list[str] = list(dict.fromkeys([*(existing.tags if existing else []), *tags]))
    return datasets.checked(
        session,
        source_uri=info.source_uri,
        tags=merged_tags,
        project=project if project is not None else (existing.project_id if existing else None),
        **values,
    )


BATCH = 64
"""Scanned files stored per transaction."""


def _store(
    workspace: Workspace,
    scanned: list[tuple[FileResult, list[EpisodeInfo]]],
    *,
    project: str | int | None,
    tags: Sequence[str],
) -> None:
    """Register a batch of scanned files in one short transaction. Every episode of a file is
    checked before any is added, so a file that does not fit registers nothing and the others
    go on; the batch is flushed at once (one multi-row insert), then audited."""
    if not scanned:
        return
    with workspace.transaction() as session:
        me = workspace.me(session)
        datasets.require_registrar(me)
        uris = [info.source_uri for _, episodes in scanned for info in episodes]
        known = {  # one query for the batch, not one per episode
            d.source_uri: d
            for d in session.scalars(select(Dataset).where(Dataset.source_uri.in_(uris)))
        }
        placed: list[tuple[FileResult, Dataset, bool]] = []
        stored: list[tuple[FileResult, int]] = []
        for result, episodes in scanned:
            try:
                plans = [
                    (info, known.get(info.source_uri), planned(
                        session, info, project=project, tags=tags,
                        existing=known.get(info.source_uri),
                    ))
                    for info in episodes
                ]  # fmt: skip
            except AnnotationKitError as exc:
                result.error = f"{result.source}: {exc}"
                continue
            for info, existing, values in plans:
                result.problems += info.problems
                if values is None:
                    assert existing is not None
                    result.unchanged.append(existing.id)
                    continue
                dataset = datasets.place(session, info.source_uri, values, existing)
                known[info.source_uri] = dataset
                placed.append((result, dataset, existing is not None))
            stored.append((result, len(episodes)))
        session.flush()
        for result, dataset, updated in placed:
            datasets.recorded(session, dataset, updated=updated, by=me)
            (result.updated if updated else result.created).append(dataset.id)
        for result, count in stored:
            events.record(
                session,
                by=me,
                object_type="import",
                object_id=0,
                action="import",
                note=result.source,
                episodes=count,
            )
        checks.on_import(session, [i for r, _ in scanned for i in (*r.created, *r.updated)], by=me)


def import_datasets(
    workspace: Workspace,
    sources: str | Path | Iterable[str | Path],
    *,
    project: str | int | None = None,
    tags: Sequence[str] = (),
    progress: bool = True,
    probe_cameras: bool = True,
) -> ImportReport:
    """Index episode files and folders into the workspace as its user; returns a report.

    ``sources`` are paths or URLs (``s3://bucket/prefix``...) of MCAP or HDF5 files, LeRobot
    dataset folders, or folders holding them. ``probe_cameras=False`` skips reading one frame
    per camera where a format does not state the resolution (faster, esp. from object storage).
    """
    with workspace.transaction(write=False) as session:
        me = workspace.me(session)
        datasets.require_registrar(me)
        if project is not None:  # an unknown project is refused before anything is read
            projects.get(session, project)
        accepted = settings.get(session, "upload_formats")
    allowed = set(readers() if accepted is None else accepted)
    if isinstance(sources, (str, Path)):
        items: list[Any] = [sources]
    elif isinstance(sources, Iterable) and not isinstance(sources, (bytes, dict)):
        items = list(sources)
    else:
        raise ValidationError(
            f"sources are paths or URLs (one, or a list of them), not {type(sources).__name__}"
        )
    report = ImportReport()
    admin = me.role == Role.ADMIN
    for item in items:  # before anything is listed or read
        require_within(locate(item), admin=admin, what="import source")
    try:
        locations = expand(items)
    except (OSError, ValueError) as exc:
        raise AnnotationKitError(scrub(f"cannot list {items!r}: {exc}")) from exc
    for location in locations:  # a symbolic link inside a root may point outside it
        require_within(location, admin=admin, what="import source")
    scanned: list[tuple[FileResult, list[EpisodeInfo]]] = []
    for location in tqdm(locations, desc="import", unit="source", disable=not progress):
        result = FileResult(source=location.url)
        report.files.append(result)
        try:
            module = detect(location)
            kind = next((k for k, m in readers().items() if m is module), "")
            if kind not in allowed:
                raise FormatError(
                    f"{location.url}: {kind or 'this'} sources are not accepted in this "
                    f"workspace (setting upload_formats: {', '.join(sorted(allowed))})"
                )
            scanned.append((result, module.scan(location, probe_cameras=probe_cameras)))
        except FormatError as exc:
            result.error = scrub(str(exc))
        except OSError as exc:
            reason = scrub(exc.strerror or type(exc).__name__)
            result.error = f"{location.url}: cannot read ({reason})"
        except Exception as exc:  # a reader below failing its own way (h5py, zstd...): one line
            result.error = f"{location.url}: cannot be read ({type(exc).__name__}; corrupt?)"
        if len(scanned) >= BATCH:
            _store(workspace, scanned, project=project, tags=tags)
            scanned = []
    _store(workspace, scanned, project=project, tags=tags)
    return report
