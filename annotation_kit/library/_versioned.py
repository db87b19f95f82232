"""What every versioned library item (a skill, a dictionary) does the same way: found by name or
id, names unique, each change a new version whose snapshot stays readable (annotations point at
the version they were made with), each create and edit in the audit log, a project's choice of
items."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..access import _text, events, projects
from ..access.workflow import require_supervisor
from ..errors import NotFound, ValidationError
from ..store.models import User


@dataclass(frozen=True)
class Versioned:
    """One kind of versioned item: its table, its versions' table and what a version keeps."""

    word: str
    """What one is called: "skill", "dictionary"."""
    table: Any
    history: Any
    kept: tuple[str, ...]
    """The fields each version keeps a copy of."""
    where: str = ""
    """Where they are, for "no skill 'x' in the skill library"."""

    @property
    def _key(self) -> str:
        return f"{self.word}_id"

    def get(self, session: Session, ref: str | int) -> Any:
        """The item with this name or id; :class:`NotFound` names some known ones."""
        column = self.table.id if isinstance(ref, int) else self.table.name
        found = session.scalar(select(self.table).where(column == ref))
        if found is None:
            known = session.scalars(select(self.table.name).order_by(self.table.name).limit(30))
            raise NotFound(
                f"no {self.word} {ref!r}{self.where}; known: {', '.join(known) or 'none'}"
            )
        return found

    def free_name(self, session: Session, name: str, *, hint: str = "") -> str:
        """``name`` checked, and refused when another item has it."""
        _text.name(name, f"{self.word} name")
        if session.scalar(select(self.table.id).where(self.table.name == name)) is not None:
            raise ValidationError(f"a {self.word} named {name!r} already exists{hint}")
        return name

    def created(self, session: Session, item: Any, *, by: User) -> Any:
        """``item``, new, stored at version 1 with its snapshot and a ``create`` event."""
        session.add(item)
        session.flush()
        self._snapshot(session, item)
        events.record(session, by=by, object_type=self.word, object_id=item.id, action="create")
        return item

    def changed(self, session: Session, item: Any, *, by: User) -> Any:
        """``item``, changed: its next version, snapshot and ``edit`` event."""
        item.version += 1
        session.flush()
        self._snapshot(session, item)
        events.record(
            session,
            by=by,
            object_type=self.word,
            object_id=item.id,
            action="edit",
            to_state=f"v{item.version}",
        )
        return item

    def _snapshot(self, session: Session, item: Any) -> None:
        copied = {f: list(v) if isinstance(v := getattr(item, f), list) else v for f in self.kept}
        session.add(self.history(**{self._key: item.id, "version": item.version}, **copied))

    def version(self, session: Session, ref: str | int, number: int) -> Any:
        """The item as it was at version ``number``."""
        found = self.get(session, ref)
        kept = session.get(self.history, (found.id, number))
        if kept is None:
            raise NotFound(
                f"{self.word} {found.name!r} has versions 1 to {found.version}, not {number}"
            )
        return kept

    def use_in_project(
        self, session: Session, project: str | int, chosen: Iterable[str], *, by: User
    ) -> list[str]:
        """The items the project's annotators are offered (none named: every one)."""
        plural = "dictionaries" if self.word == "dictionary" else f"{self.word}s"
        require_supervisor(by, f"choose a project's {plural}")
        found = projects.get(session, project)
        items = [self.get(session, _text.name(n, f"{self.word} name")) for n in chosen]
        projects.set_library_ids(session, found.id, self.word, [i.id for i in items])
        events.record(
            session,
            by=by,
            object_type="project",
            object_id=found.id,
            action=plural,
            note=", ".join(i.name for i in items)[:500],
        )
        return [i.name for i in items]
