"""An annotator's undo history: the inverse of each of its own saves, newest last, undone
through the services like any save (so an undo checks versions and is itself recorded)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import ConflictError, ValidationError
from ..work import annotations

if TYPE_CHECKING:
    from ..store.models import Annotation

UNDO_DEPTH = 100
"""How many saves can be undone."""
COPIED = ("start_ns", "end_ns", "skill", "labels", "description")
"""What an undo of an edit or a deletion puts back."""


class UndoHistory:
    """The steps that undo an annotator's saves in this page (one per save)."""

    def __init__(self) -> None:
        self.steps: list[dict[str, Any]] = []

    def clear(self) -> None:
        """Forget every step (another episode opened)."""
        self.steps.clear()

    def push(self, inverse: dict[str, Any]) -> None:
        """Remember how to undo a save (the oldest steps beyond :data:`UNDO_DEPTH` go)."""
        self.steps.append(inverse)
        del self.steps[:-UNDO_DEPTH]

    def undo(self, session: Any, task_id: int, dataset_id: int, me: Any) -> str:
        """Undo the newest save (a refusal if someone changed that segment since)."""
        if not self.steps:
            raise ValidationError("nothing to undo")
        step = self.steps.pop()
        try:
            if step["op"] == "delete":
                annotations.delete(session, step["id"], expected_version=step["version"], by=me)
                return f"undone: segment #{step['id']} removed"
            if step["op"] == "update":
                changes = {k: step[k] for k in COPIED if k in step}
                after = annotations.update(
                    session, step["id"], expected_version=step["version"], by=me, **changes
                )
                self._renumber(step["id"], after)
                return f"undone: segment #{step['id']} restored"
            if step["op"] == "valid":
                after = annotations.set_valid(
                    session, step["id"], True, expected_version=step["version"], by=me
                )
                self._renumber(step["id"], after)
                return f"undone: segment #{step['id']} is valid again"
            made = annotations.add(
                session,
                task_id,
                dataset_id,
                start_ns=step["start_ns"],
                end_ns=step["end_ns"],
                skill=step["skill"],
                labels=step["labels"],
                description=step["description"],
                by=me,
            )
            if not step["valid"]:
                made = annotations.set_valid(
                    session,
                    made.id,
                    False,
                    reason=step["reason"],
                    expected_version=made.version,
                    by=me,
                )
            self._renumber(step["id"], made)
            return f"undone: segment restored as #{made.id}"
        except ConflictError:
            raise ConflictError(
                "cannot undo: someone else changed that segment since; nothing was overwritten"
            ) from None

    def _renumber(self, old_id: int, now: Annotation) -> None:
        """An undo wrote a new version (or, for a deleted segment, a new row): the earlier steps
        on that segment now undo from there."""
        for step in self.steps:
            if step.get("id") == old_id:
                step["id"] = now.id
        earlier = [step for step in self.steps if step.get("id") == now.id and "version" in step]
        if earlier:
            earlier[-1]["version"] = now.version
