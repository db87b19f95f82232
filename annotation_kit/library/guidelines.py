"""Annotation guidelines: a Markdown text per project and per skill, versioned (every edit a new
version, the old ones readable), written by managers, admins and reviewers, and shown to
annotators beside the timeline.

The Markdown is rendered safely (:func:`render`): raw HTML is shown as text and links may not
run script, so nothing a guideline's author types runs in a reader's page. A link to
``#episode=ID&at=START-END`` (seconds) opens that episode in the annotator at that time range:
the way to point at examples. Reviewers cite a guideline in their comments by its reference,
e.g. ``[guideline pick v3]`` (:func:`reference`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..access import _text, events, projects, visibility
from ..access.workflow import Role, require_role
from ..errors import NotFound, ValidationError
from ..store.database import readonly
from ..store.models import Guideline, Project, Skill, Task, User
from . import skills

__all__ = [
    "Shown",
    "for_task",
    "get",
    "history",
    "reference",
    "render",
    "write",
]

WRITERS = frozenset({Role.ADMIN, Role.MANAGER, Role.REVIEWER})


def _scope(
    session: Session,
    project: str | int | None,
    skill: str | int | None,
    *,
    by: User | None,
    lock: bool = False,
) -> tuple[Project | None, Skill | None]:
    if (project is None) == (skill is None):
        raise ValidationError("a guideline belongs to a project or to a skill: name one of them")
    if project is not None:
        found = projects.get(session, project)
        if by is not None:
            change = "write the guideline" if lock else None
            visibility.require_project(session, found, by, change=change)
        if lock:  # versions are numbered one writer at a time
            session.refresh(found, with_for_update=True)
        return found, None
    found_skill = skills.get(session, skill)  # type: ignore[arg-type]
    if lock:
        session.refresh(found_skill, with_for_update=True)
    return None, found_skill


def _where(project: Project | None, skill: Skill | None) -> Any:
    if project is not None:
        return Guideline.project_id == project.id
    assert skill is not None
    return Guideline.skill_id == skill.id


def write(
    session: Session,
    body: str,
    *,
    project: str | int | None = None,
    skill: str | int | None = None,
    by: User,
) -> Guideline:
    """A new version of the guideline of ``project`` or of ``skill`` (managers, admins and
    reviewers); an unchanged text makes no new version."""
    require_role(by, WRITERS, "write annotation guidelines")
    body = _text.text(body, "guideline", required=True)
    found_project, found_skill = _scope(session, project, skill, by=by, lock=True)
    latest = _latest(session, found_project, found_skill)
    if latest is not None and latest.body == body:
        return latest
    guideline = Guideline(
        project_id=found_project.id if found_project else None,
        skill_id=found_skill.id if found_skill else None,
        version=(latest.version if latest else 0) + 1,
        body=body,
        author_id=by.id,
    )
    session.add(guideline)
    session.flush()
    events.record(
        session,
        by=by,
        object_type="guideline",
        object_id=guideline.id,
        action="write",
        to_state=f"v{guideline.version}",
        note=_label(found_project, found_skill),
    )
    return guideline


def _label(project: Project | None, skill: Skill | None) -> str:
    return f"project {project.name}" if project is not None else f"skill {skill.name}"  # type: ignore[union-attr]


def _latest(session: Session, project: Project | None, skill: Skill | None) -> Guideline | None:
    return session.scalar(
        select(Guideline).where(_where(project, skill)).order_by(Guideline.version.desc()).limit(1)
    )


@readonly
def get(
    session: Session,
    *,
    project: str | int | None = None,
    skill: str | int | None = None,
    version: int | None = None,
    by: User | None = None,
) -> Guideline:
    """The guideline of ``project`` or ``skill``: its latest version, or ``version``; with
    ``by``, only of a project that person may see."""
    found_project, found_skill = _scope(session, project, skill, by=by)
    if version is None:
        found = _latest(session, found_project, found_skill)
    else:
        found = session.scalar(
            select(Guideline).where(
                _where(found_project, found_skill), Guideline.version == version
            )
        )
    if found is None:
        what = _label(found_project, found_skill)
        raise NotFound(
            f"{what} has no guideline yet"
            if version is None
            else f"{what} has no guideline version {version}"
        )
    return found


@readonly
def history(
    session: Session,
    *,
    project: str | int | None = None,
    skill: str | int | None = None,
    by: User | None = None,
) -> Sequence[Guideline]:
    """Every version of a guideline, the newest first (with ``by``: of a project that person
    may see)."""
    found_project, found_skill = _scope(session, project, skill, by=by)
    return session.scalars(
        select(Guideline)
        .where(_where(found_project, found_skill))
        .order_by(Guideline.version.desc())
    ).all()


def reference(guideline: Guideline, name: str) -> str:
    """How a review comment cites this version: ``[guideline NAME vN]``."""
    return f"[guideline {name} v{guideline.version}]"


def render(body: str) -> str:
    """Markdown to HTML a page may show as is: raw HTML is escaped, links that would run
    script (``javascript:``, ``vbscript:``, ``data:``...) are not made, and links open in a new
    tab unless they point into the annotator (``#episode=...``)."""
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")
    tokens = md.parse(body)
    for token in tokens:
        for child in token.children or []:
            if child.type == "link_open":
                href = str(child.attrGet("href") or "")
                if not href.startswith("#"):
                    child.attrSet("target", "_blank")
                    child.attrSet("rel", "noopener noreferrer")
    return md.renderer.render(tokens, md.options, {})


@dataclass(frozen=True)
class Shown:
    """A guideline as the annotator shows it."""

    scope: str
    """``project`` or ``skill``."""
    name: str
    version: int
    html: str
    updated_at: datetime
    reference: str

    def as_json(self) -> dict[str, object]:
        """What the annotator's side panel shows (the HTML is already safe)."""
        return {
            "scope": self.scope,
            "name": self.name,
            "version": self.version,
            "html": self.html,
            "updated_at": self.updated_at.isoformat(),
            "reference": self.reference,
        }


@readonly
def for_task(session: Session, task: int) -> list[Shown]:
    """The guidelines an annotator of ``task`` reads: its project's, then those of the skills
    it is offered (in hot-key order), each at its latest version."""
    project = session.scalar(
        select(Project).join(Task, Task.project_id == Project.id).where(Task.id == task)
    )
    offered = {s.id: s.name for s in skills.offered(session, task)}
    mine = Guideline.skill_id.in_(offered)
    if project is not None:
        mine = mine | (Guideline.project_id == project.id)
    newest: dict[tuple[int | None, int | None], Guideline] = {}
    for g in session.scalars(select(Guideline).where(mine).order_by(Guideline.version)):
        newest[(g.project_id, g.skill_id)] = g  # the last one read is the latest version
    order = [(project.id if project else None, None)] + [(None, i) for i in offered]
    shown = []
    for key in order:
        g = newest.get(key)
        if g is None:
            continue
        scope, name = ("project", project.name) if key[1] is None else ("skill", offered[key[1]])  # type: ignore[union-attr]
        shown.append(
            Shown(scope, name, g.version, render(g.body), g.created_at, reference(g, name))
        )
    return shown
