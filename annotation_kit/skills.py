"""The skill library (versioned) and dictionaries of labels, objects and targets."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import _text, events
from .database import readonly
from .errors import NotFound, ValidationError
from .models import Dictionary, Skill, SkillVersion, User
from .workflow import require_supervisor

__all__ = [
    "check_labels",
    "create",
    "create_dictionary",
    "edit",
    "get",
    "list_dictionaries",
    "list_skills",
    "names",
]


def get(session: Session, skill: str | int) -> Skill:
    """The skill with this name or id; :class:`NotFound` names some known ones."""
    column = Skill.id if isinstance(skill, int) else Skill.name
    found = session.scalar(select(Skill).where(column == skill))
    if found is None:
        known = session.scalars(select(Skill.name).order_by(Skill.name).limit(30)).all()
        raise NotFound(f"no skill {skill!r} in the skill library; known: {', '.join(known)}")
    return found


def create(
    session: Session,
    name: str,
    *,
    category: str = "",
    description: str = "",
    tags: Iterable[str] = (),
    by: User,
) -> Skill:
    """Add a skill to the library (managers and admins); it starts at version 1."""
    require_supervisor(by, "edit the skill library")
    _text.name(name, "skill name")
    _text.text(description, "skill description")
    _text.optional_name(category, "skill category")
    tags = [_text.name(t, "skill tag") for t in tags]
    if session.scalar(select(Skill.id).where(Skill.name == name)) is not None:
        raise ValidationError(f"a skill named {name!r} already exists")
    skill = Skill(name=name, category=category, description=description, tags=list(tags))
    session.add(skill)
    session.flush()
    _snapshot(session, skill)
    events.record(session, by=by, object_type="skill", object_id=skill.id, action="create")
    return skill


def edit(
    session: Session,
    skill: str | int,
    *,
    name: str | None = None,
    category: str | None = None,
    description: str | None = None,
    tags: Iterable[str] | None = None,
    by: User,
) -> Skill:
    """Change a skill; its version goes up and annotations keep pointing at the old version."""
    require_supervisor(by, "edit the skill library")
    found = get(session, skill)
    if name is not None:
        found.name = _text.name(name, "skill name")
    if category is not None:
        found.category = _text.optional_name(category, "skill category")
    if description is not None:
        found.description = _text.text(description, "skill description")
    if tags is not None:
        found.tags = [_text.name(t, "skill tag") for t in tags]
    found.version += 1
    session.flush()
    _snapshot(session, found)
    events.record(
        session,
        by=by,
        object_type="skill",
        object_id=found.id,
        action="edit",
        to_state=f"v{found.version}",
    )
    return found


def _snapshot(session: Session, skill: Skill) -> None:
    session.add(
        SkillVersion(
            skill_id=skill.id,
            version=skill.version,
            name=skill.name,
            category=skill.category,
            description=skill.description,
            tags=list(skill.tags),
        )
    )


@readonly
def list_skills(session: Session) -> Sequence[Skill]:
    """The skill library, by category then name."""
    return session.scalars(select(Skill).order_by(Skill.category, Skill.name)).all()


@readonly
def names(session: Session) -> dict[int, str]:
    """Every skill's name by id (what a view needs to show annotations' skills)."""
    return dict(session.execute(select(Skill.id, Skill.name)).all())  # type: ignore[arg-type]


def create_dictionary(
    session: Session, name: str, entries: Iterable[str], *, kind: str = "labels", by: User
) -> Dictionary:
    """A named list of allowed labels (or objects, targets...). Managers and admins."""
    require_supervisor(by, "edit dictionaries")
    _text.name(name, "dictionary name")
    _text.name(kind, "dictionary kind")
    if len(kind) > 64:
        raise ValidationError(f"dictionary kind is {len(kind)} characters long; the limit is 64")
    entries = [_text.name(e, f"entry of dictionary {name!r}") for e in entries]
    if session.scalar(select(Dictionary.id).where(Dictionary.name == name)) is not None:
        raise ValidationError(f"a dictionary named {name!r} already exists")
    found = Dictionary(name=name, kind=kind, entries=list(dict.fromkeys(entries)))
    session.add(found)
    session.flush()
    events.record(session, by=by, object_type="dictionary", object_id=found.id, action="create")
    return found


@readonly
def list_dictionaries(session: Session) -> Sequence[Dictionary]:
    """Every label dictionary, by name."""
    return session.scalars(select(Dictionary).order_by(Dictionary.name)).all()


def check_labels(session: Session, labels: Iterable[str]) -> list[str]:
    """Return ``labels`` if every one is an entry of some dictionary, else raise naming the rest."""
    labels = list(labels)
    if not labels:
        return labels
    known: set[str] = set()
    for entries in session.scalars(select(Dictionary.entries)):
        known.update(entries)
    if unknown := [label for label in labels if label not in known]:
        raise ValidationError(
            f"label(s) {', '.join(map(repr, unknown))} are in no dictionary; add them to a "
            f"dictionary first"
        )
    return labels
