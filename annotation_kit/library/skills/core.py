"""The skill library itself: versioned skills, dependencies, hot-key order, deprecation,
merges, projects' choices and what an annotator is offered."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...access import _text, events, projects
from ...access.workflow import require_supervisor
from ...errors import ValidationError
from ...store.database import readonly
from ...store.models import Annotation, Skill, SkillVersion, Task, User
from .._versioned import Versioned

SKILLS = Versioned(
    "skill",
    Skill,
    SkillVersion,
    ("name", "category", "description", "tags"),
    " in the skill library",
)


def get(session: Session, skill: str | int) -> Skill:
    """The skill with this name or id; :class:`NotFound` names some known ones."""
    return SKILLS.get(session, skill)


def create(
    session: Session,
    name: str,
    *,
    category: str = "",
    description: str = "",
    tags: Iterable[str] = (),
    requires: Iterable[str] = (),
    by: User,
) -> Skill:
    """Add a skill to the library (managers and admins); it starts at version 1. ``requires``
    names skills that must come before it in an episode."""
    require_supervisor(by, "edit the skill library")
    SKILLS.free_name(session, name)
    _text.text(description, "skill description")
    _text.optional_name(category, "skill category")
    tags = [_text.name(t, "skill tag") for t in tags]
    skill = Skill(name=name, category=category, description=description, tags=list(tags))
    session.add(skill)
    session.flush()  # its id, for what it requires
    skill.requires = _requirements(session, skill, requires)
    return SKILLS.created(session, skill, by=by)


def edit(
    session: Session,
    skill: str | int,
    *,
    name: str | None = None,
    category: str | None = None,
    description: str | None = None,
    tags: Iterable[str] | None = None,
    requires: Iterable[str] | None = None,
    by: User,
) -> Skill:
    """Change a skill; its version goes up and annotations keep pointing at the old version."""
    require_supervisor(by, "edit the skill library")
    found = get(session, skill)
    if requires is not None:
        found.requires = _requirements(session, found, requires)
    if name is not None and name != found.name:
        found.name = SKILLS.free_name(session, name, hint="; merge into it instead")
    if category is not None:
        found.category = _text.optional_name(category, "skill category")
    if description is not None:
        found.description = _text.text(description, "skill description")
    if tags is not None:
        found.tags = [_text.name(t, "skill tag") for t in tags]
    return SKILLS.changed(session, found, by=by)


def _requirements(session: Session, skill: Skill, names: Iterable[str]) -> list[int]:
    """The ids of the skills ``skill`` requires, refused when one is itself or would make a
    cycle (a skill that, through others, requires itself)."""
    ids = [get(session, _text.name(n, "required skill")).id for n in names]
    if skill.id in ids:
        raise ValidationError(f"skill {skill.name!r} cannot require itself")
    graph = {s.id: list(s.requires) for s in session.scalars(select(Skill))} | {skill.id: ids}
    todo, seen = list(ids), set()
    while todo:
        at = todo.pop()
        if at == skill.id:
            raise ValidationError(
                f"skill {skill.name!r} would require itself through "
                f"{', '.join(repr(get(session, i).name) for i in ids)}"
            )
        if at not in seen:
            seen.add(at)
            todo.extend(graph.get(at, []))
    return list(dict.fromkeys(ids))


@readonly
def list_skills(session: Session, *, deprecated: bool = True) -> Sequence[Skill]:
    """The skill library in hot-key order: the order set with :func:`reorder`, then the skills
    without a place in the order they were added (a fresh library's keys 1, 2... are its
    skills as they were created); ``deprecated=False`` leaves out the deprecated ones."""
    query = select(Skill).order_by(Skill.position.is_(None), Skill.position, Skill.id)
    if not deprecated:
        query = query.where(Skill.deprecated.is_(False))
    return session.scalars(query).all()


@readonly
def names(session: Session) -> dict[int, str]:
    """Every skill's name by id (what a view needs to show annotations' skills)."""
    return dict(session.execute(select(Skill.id, Skill.name)).all())  # type: ignore[arg-type]


@readonly
def version(session: Session, skill: str | int, number: int) -> SkillVersion:
    """A skill as it was at one version (annotations made then point at it)."""
    return SKILLS.version(session, skill, number)


@readonly
def requirements(session: Session) -> dict[str, list[str]]:
    """Each skill that requires others, by name: the names of those it requires."""
    by_id = names(session)
    return {
        by_id[s.id]: [by_id[r] for r in s.requires if r in by_id]
        for s in session.scalars(select(Skill).where(Skill.deprecated.is_(False)))
        if s.requires
    }


def reorder(session: Session, order: Sequence[str], *, by: User) -> list[str]:
    """Set the hot-key order: ``order`` names the skills that get keys 1, 2...; the rest follow
    in the order they were added. Returns the library's names in the new order."""
    require_supervisor(by, "edit the skill library")
    found = [get(session, _text.name(n, "skill name")) for n in order]
    if len({s.id for s in found}) != len(found):
        raise ValidationError("a skill is named twice in the hot-key order")
    for skill in session.scalars(select(Skill).where(Skill.position.is_not(None))):
        skill.position = None
    for place, skill in enumerate(found, 1):
        skill.position = place
    session.flush()
    events.record(
        session,
        by=by,
        object_type="skill",
        object_id=found[0].id if found else 0,
        action="reorder",
        note=", ".join(s.name for s in found)[:500],
    )
    return [s.name for s in list_skills(session)]


def deprecate(session: Session, skill: str | int, *, by: User, note: str = "") -> Skill:
    """Stop offering a skill: the annotations that use it keep it, no new one may."""
    return _deprecated(session, skill, True, by, note)


def restore(session: Session, skill: str | int, *, by: User) -> Skill:
    """Offer a deprecated skill again."""
    return _deprecated(session, skill, False, by, "")


def _deprecated(session: Session, skill: str | int, value: bool, by: User, note: str) -> Skill:
    require_supervisor(by, "edit the skill library")
    found = get(session, skill)
    if found.merged_into is not None and not value:
        raise ValidationError(f"skill {found.name!r} was merged into another; it stays retired")
    found.deprecated = value
    events.record(
        session,
        by=by,
        object_type="skill",
        object_id=found.id,
        action="deprecate" if value else "restore",
        note=_text.text(note, "note"),
    )
    return found


def merge(session: Session, skill: str | int, into: str | int, *, by: User) -> int:
    """Merge ``skill`` into ``into``: its annotations point at ``into`` (its current version;
    each annotation's change is recorded), and ``skill`` is deprecated for good. Returns the
    number of annotations re-pointed."""
    require_supervisor(by, "edit the skill library")
    source, target = get(session, skill), get(session, into)
    if source.id == target.id:
        raise ValidationError(f"skill {source.name!r} cannot be merged into itself")
    if target.deprecated:
        raise ValidationError(f"skill {target.name!r} is deprecated; merge into a skill in use")
    moved = session.scalars(
        select(Annotation).where(Annotation.skill_id == source.id).with_for_update()
    ).all()
    for annotation in moved:
        was = annotation.skill_version
        annotation.skill_id, annotation.skill_version = target.id, target.version
        events.record(
            session,
            by=by,
            object_type="annotation",
            object_id=annotation.id,
            action="update",
            note=f"skill {source.name!r} v{was} merged into {target.name!r} v{target.version}",
        )
    for other in session.scalars(select(Skill)):  # what required the source requires the target
        if source.id in other.requires:
            kept = [target.id if r == source.id else r for r in other.requires]
            other.requires = [r for r in dict.fromkeys(kept) if r != other.id]
    source.deprecated, source.merged_into = True, target.id
    session.flush()
    events.record(
        session,
        by=by,
        object_type="skill",
        object_id=source.id,
        action="merge",
        to_state=target.name,
        note=f"{len(moved)} annotation(s) re-pointed",
    )
    return len(moved)


def use_in_project(
    session: Session, project: str | int, skills: Iterable[str], *, by: User
) -> list[str]:
    """The skills the project's annotators are offered (none named: the whole library)."""
    return SKILLS.use_in_project(session, project, skills, by=by)


@readonly
def offered(session: Session, task: int) -> list[Skill]:
    """The skills an annotator of ``task`` is offered, in hot-key order: its project's (the
    whole library when the project names none), none deprecated."""
    project_id = session.scalar(select(Task.project_id).where(Task.id == task))
    chosen = projects.library_ids(session, project_id, "skill")
    return [s for s in list_skills(session, deprecated=False) if chosen is None or s.id in chosen]
