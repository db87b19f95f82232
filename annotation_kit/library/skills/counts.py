"""How much each skill of the library is used."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ...store.database import readonly
from ...store.models import Annotation
from .core import list_skills


@dataclass(frozen=True)
class Usage:
    """How much one skill is used, across every task."""

    name: str
    category: str
    version: int
    annotations: int
    episodes: int
    annotators: int
    last_used: datetime | None
    """When an annotation with this skill was last made or changed."""
    deprecated: bool = False


@readonly
def usage(session: Session) -> list[Usage]:
    """Each skill of the library with its annotations, episodes and annotators, and when it was
    last used (unused skills too, with zeros), in the library's order."""
    counts = {
        skill_id: (int(n), int(episodes), int(people), last)
        for skill_id, n, episodes, people, last in session.execute(
            select(
                Annotation.skill_id,
                func.count(),
                func.count(func.distinct(Annotation.dataset_id)),
                func.count(func.distinct(Annotation.author_id)),
                func.max(Annotation.updated_at),
            )
            .where(Annotation.skill_id.is_not(None))
            .group_by(Annotation.skill_id)
        )
    }
    return [
        Usage(s.name, s.category, s.version, *counts.get(s.id, (0, 0, 0, None)), s.deprecated)
        for s in list_skills(session)
    ]
