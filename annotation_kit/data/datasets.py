"""Datasets: one recorded episode each, registered from its metadata."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..access import _text, events, projects, visibility
from ..access.workflow import Role, require_role
from ..errors import NotFound, ValidationError
from ..store.database import readonly
from ..store.locations import holds_credentials
from ..store.models import Dataset, User

__all__ = [
    "check_range",
    "get",
    "list_datasets",
    "register",
    "require_ids",
    "require_registrar",
]

REGISTRARS = frozenset({Role.ADMIN, Role.MANAGER, Role.COLLECTOR})


def require_registrar(user: User) -> None:
    """Raise unless ``user`` may register or import datasets."""
    require_role(user, REGISTRARS, "register datasets")


def get(session: Session, dataset: int | str) -> Dataset:
    """A dataset by id or source URI, or :class:`NotFound`."""
    column = Dataset.id if isinstance(dataset, int) else Dataset.source_uri
    found = session.scalar(select(Dataset).where(column == dataset))
    if found is None:
        raise NotFound(f"no dataset {dataset!r}")
    return found


def register(
    session: Session,
    *,
    name: str,
    source_uri: str,
    format: str,
    duration_ns: int,
    start_time_ns: int = 0,
    streams: Sequence[dict[str, Any]] = (),
    cameras: Sequence[dict[str, Any]] = (),
    size_bytes: int = 0,
    robot: str = "",
    tags: Sequence[str] = (),
    meta: dict[str, Any] | None = None,
    project: str | int | None = None,
    by: User,
) -> Dataset:
    """Register one episode from its metadata (admins, managers, collectors).

    Registering the same ``source_uri`` again updates its metadata instead of adding a copy.
    """
    require_registrar(by)
    values = checked(
        session,
        name=name,
        source_uri=source_uri,
        format=format,
        duration_ns=duration_ns,
        start_time_ns=start_time_ns,
        streams=streams,
        cameras=cameras,
        size_bytes=size_bytes,
        robot=robot,
        tags=tags,
        meta=meta,
        project=project,
    )
    existing = session.scalar(select(Dataset).where(Dataset.source_uri == source_uri))
    return store(session, source_uri, values, existing, by=by)


def checked(
    session: Session,
    *,
    name: str,
    source_uri: str,
    format: str,
    duration_ns: int,
    start_time_ns: int = 0,
    streams: Sequence[dict[str, Any]] = (),
    cameras: Sequence[dict[str, Any]] = (),
    size_bytes: int = 0,
    robot: str = "",
    tags: Sequence[str] = (),
    meta: dict[str, Any] | None = None,
    project: str | int | None = None,
) -> dict[str, Any]:
    """The column values of one episode's registration, once each is checked."""
    _text.name(name, "dataset name")
    _text.name(source_uri, "source URI")
    if holds_credentials(source_uri):
        raise ValidationError(
            "source URI carries a user name or password; name it without them (credentials "
            "come from the environment or the storage's own configuration)"
        )
    _text.optional_name(robot, "robot")
    _format(format)
    for field, value in (
        ("duration_ns", duration_ns),
        ("size_bytes", size_bytes),
        ("start_time_ns", start_time_ns),
    ):
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ValidationError(f"{field} must be a non-negative integer, got {value!r}")
    return {
        "name": name,
        "format": format,
        "duration_ns": duration_ns,
        "start_time_ns": start_time_ns,
        "streams": list(streams),
        "cameras": list(cameras),
        "size_bytes": size_bytes,
        "robot": robot,
        "tags": list(tags),
        "meta": dict(meta or {}),
        "project_id": projects.get(session, project).id if project is not None else None,
    }


def store(
    session: Session,
    source_uri: str,
    values: dict[str, Any],
    existing: Dataset | None,
    *,
    by: User,
) -> Dataset:
    """Write checked ``values`` (:func:`checked`) as the dataset of ``source_uri``: a new one,
    or ``existing`` updated; recorded in the audit log."""
    dataset = place(session, source_uri, values, existing)
    session.flush()
    recorded(session, dataset, updated=existing is not None, by=by)
    return dataset


def place(
    session: Session, source_uri: str, values: dict[str, Any], existing: Dataset | None
) -> Dataset:
    """Checked ``values`` as the dataset of ``source_uri`` in the session (not flushed: an
    import flushes a batch at once); record it with :func:`recorded` once it has its id."""
    if existing is None:
        dataset = Dataset(source_uri=source_uri, **values)
        session.add(dataset)
        return dataset
    for key, value in values.items():
        setattr(existing, key, value)
    return existing


def recorded(session: Session, dataset: Dataset, *, updated: bool, by: User) -> None:
    """The audit event of a dataset registered (or updated) by ``by``."""
    events.record(
        session,
        by=by,
        object_type="dataset",
        object_id=dataset.id,
        action="update" if updated else "register",
        note=dataset.source_uri,
    )


@readonly
def list_datasets(
    session: Session, *, by: User, project: str | int | None = None
) -> Sequence[Dataset]:
    """Every dataset ``by`` may see (optionally of one project), in id order."""
    query = select(Dataset).where(visibility.datasets_seen(by)).order_by(Dataset.id)
    if project is not None:
        query = query.where(Dataset.project_id == projects.get(session, project).id)
    return session.scalars(query).all()


def check_range(start_ns: object, end_ns: object, duration_ns: int) -> tuple[int, int]:
    """Check a time range on an episode clock (integer ns from the episode start)."""
    for field, value in (("start_ns", start_ns), ("end_ns", end_ns)):
        if not isinstance(value, int) or isinstance(value, bool):
            raise ValidationError(
                f"{field} must be an integer number of nanoseconds, got {value!r}"
            )
    assert isinstance(start_ns, int) and isinstance(end_ns, int)
    if start_ns < 0:
        raise ValidationError(f"start_ns {start_ns} is before the episode start (0)")
    if end_ns <= start_ns:
        raise ValidationError(f"end_ns {end_ns} must be after start_ns {start_ns}")
    if end_ns > duration_ns:
        raise ValidationError(
            f"end_ns {end_ns} is past the end of the episode ({duration_ns} ns = "
            f"{duration_ns / 1e9:.3f} s)"
        )
    return start_ns, end_ns


def require_ids(session: Session, ids: Sequence[int]) -> list[int]:
    """The given dataset ids, de-duplicated; :class:`NotFound` names any that do not exist."""
    ids = list(dict.fromkeys(ids))
    found = set(session.scalars(select(Dataset.id).where(Dataset.id.in_(ids))))
    if missing := [i for i in ids if i not in found]:
        raise NotFound(f"no dataset with id {', '.join(map(str, missing))}")
    return ids


def _format(name: str) -> None:
    from ..formats import readers

    _text.name(name, "format")
    if name.split("-", 1)[0] not in readers():
        raise ValidationError(
            f"unknown dataset format {name!r}; formats are {', '.join(readers())} "
            "(with a layout or version after a dash, e.g. hdf5-robomimic)"
        )
