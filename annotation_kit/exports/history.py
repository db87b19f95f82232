"""Export records: the list, one record, and what changed between two exports (two releases of
a project's training data) from the annotation versions each one held."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..access import _text
from ..errors import NotFound
from ..store.database import readonly
from ..store.models import Export, ExportItem

__all__ = ["diff", "get_export", "list_exports"]


def _items(session: Session, export_id: int) -> dict[int, int]:
    return dict(
        session.execute(
            select(ExportItem.annotation_id, ExportItem.annotation_version).where(
                ExportItem.export_id == export_id
            )
        ).all()
    )


@readonly
def list_exports(session: Session, *, limit: int = 100) -> Sequence[Export]:
    """Exports, newest first."""
    limit = _text.at_least(limit, "limit")
    return session.scalars(select(Export).order_by(Export.id.desc()).limit(limit)).all()


@readonly
def get_export(session: Session, export_id: int) -> Export:
    """The export record with this id (:class:`NotFound` if there is none)."""
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
