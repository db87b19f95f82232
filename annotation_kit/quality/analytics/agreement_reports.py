"""Agreement between annotators who annotated the same episodes independently: per episode and
pair, or per skill (:mod:`annotation_kit.work.agreement` measures it)."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

from ...access.workflow import is_supervisor
from ...errors import EmptyResult, PermissionDenied, ValidationError
from .base import Reports


class AgreementReports(Reports):
    """How far independent annotators agree."""

    def agreement(self, task: int, *, by: str = "pair", arrow: bool = False) -> Any:
        """Agreement between every two annotators on each independently annotated episode of
        ``task`` (:mod:`annotation_kit.work.consensus`; managers, admins and the task's
        reviewers): per episode and pair (``by="pair"``), segments of each, matched pairs, mean
        tIoU, boundary F1 at 0.1 / 0.5 / 1.0 s and the skill agreement (Krippendorff's alpha) — see
        :mod:`annotation_kit.work.agreement`; or per skill (``by="skill"``) over every episode
        and pair: segments of that skill, those matched, their mean tIoU and the share of matches
        given the same skill by the other annotator."""
        import pandas as pd

        from ...work.agreement import TOLERANCES_S, Segment, compare

        if by not in ("pair", "skill"):
            raise ValidationError(f"by must be 'pair' or 'skill', not {by!r}")
        if not isinstance(task, int) or isinstance(task, bool):
            raise ValidationError(f"task must be a task id, not {task!r}")
        self._require_exists("tasks", "id", task, "task with id")
        self._require_reviewer_of(task, "read agreement on")
        rows = self._query(
            """
            SELECT a.dataset_id, u.name AS author, a.start_ns, a.end_ns, s.name AS skill
            FROM annotations a JOIN users u ON u.id = a.author_id
            JOIN task_datasets td ON td.task_id = a.task_id AND td.dataset_id = a.dataset_id
            LEFT JOIN skills s ON s.id = a.skill_id
            WHERE a.task_id = ? AND a.kind = 'segment' AND a.valid
              AND a.provenance = 'human' AND CAST(td.independent AS INTEGER) = 1
            ORDER BY a.dataset_id, u.name, a.start_ns
            """,
            [task],
        )
        out = []
        per_skill: dict[str, dict[str, Any]] = {}
        for dataset, of_dataset in rows.groupby("dataset_id", sort=True):
            people = {
                name: [
                    Segment(int(r.start_ns), int(r.end_ns), None if pd.isna(r.skill) else r.skill)
                    for r in group.itertuples()
                ]
                for name, group in of_dataset.groupby("author", sort=True)
            }
            names = sorted(people)
            for i, first in enumerate(names):
                for second in names[i + 1 :]:
                    got = compare(people[first], people[second])
                    _tally(per_skill, got.pairs, people[first], people[second])
                    out.append(
                        {
                            "dataset": int(dataset),
                            "annotator_a": first,
                            "annotator_b": second,
                            "segments_a": got.segments_a,
                            "segments_b": got.segments_b,
                            "matched": len(got.pairs),
                            "mean_tiou": got.mean_tiou,
                            **{f"boundary_f1_{t:g}s": got.boundary_f1[t] for t in TOLERANCES_S},
                            "skill_alpha": got.skill_alpha,
                        }
                    )
        if not out:
            warnings.warn(EmptyResult(self._why_no_agreement(task)), stacklevel=2)
        if by == "skill":
            return self._frame(
                [
                    {
                        "skill": skill,
                        "segments": row["segments"],
                        "matched": row["matched"],
                        "mean_tiou": sum(row["tious"]) / len(row["tious"])
                        if row["tious"]
                        else None,
                        "same_skill_share": row["same"] / row["matched"]
                        if row["matched"]
                        else None,
                    }
                    for skill, row in sorted(per_skill.items())
                ],
                arrow=arrow,
            )
        return self._frame(out, arrow=arrow)

    def _why_no_agreement(self, task: int) -> str:
        independent = self._query(
            "SELECT count(*) AS n FROM task_datasets "
            "WHERE task_id = ? AND CAST(independent AS INTEGER) = 1",
            [task],
        )
        if not int(independent.n.iloc[0]):
            return (
                f"no agreement on task #{task}: none of its episodes is annotated independently "
                "(agreement compares annotators on the same episode; choose them with "
                "ws.consensus.set_independent(task, datasets=[...]) before the work starts)"
            )
        return (
            f"no agreement on task #{task} yet: none of its independently annotated episodes has "
            "valid segments from two annotators"
        )

    def _consistency(self) -> dict[str, list[float]]:
        """Per project, the mean tIoU of every pair of annotators on every independently
        annotated episode (what the quality summary's consistency averages)."""
        overlapped = self._query(
            """
            SELECT DISTINCT td.task_id, coalesce(p.name, '(none)') AS project
            FROM task_datasets td JOIN tasks t ON t.id = td.task_id
            LEFT JOIN projects p ON p.id = t.project_id
            WHERE CAST(td.independent AS INTEGER) = 1
            """
        )
        consistency: dict[str, list[float]] = {}
        for row in overlapped.itertuples():
            with warnings.catch_warnings():  # a task nobody overlapped on yet adds nothing
                warnings.simplefilter("ignore", EmptyResult)
                found = self.agreement(int(row.task_id))
            if not found.empty:
                consistency.setdefault(str(row.project), []).extend(found.mean_tiou.dropna())
        return consistency

    def _require_reviewer_of(self, task: int, what: str) -> None:
        """Managers and admins, or a reviewer of ``task``; anyone else is refused."""
        me = self._me()
        if is_supervisor(me):
            return
        reviews = self._query(
            "SELECT 1 FROM task_members WHERE task_id = ? AND user_id = ? AND duty = 'reviewer'",
            [task, me.id],
        )
        if reviews.empty:
            raise PermissionDenied(
                f"{me.name} ({me.role}) may not {what} task #{task}: its reviewers, managers "
                "and admins"
            )


def _tally(
    per_skill: dict[str, dict[str, Any]],
    pairs: Sequence[tuple[int, int, float]],
    first: Sequence[Any],
    second: Sequence[Any],
) -> None:
    """Count each segment of two annotators' episode under its skill: matched or not, the
    match's tIoU and whether the other annotator gave it the same skill."""
    matched = {i: (j, t) for i, j, t in pairs}
    back = {j: (i, t) for i, j, t in pairs}
    for found, mine, theirs in ((matched, first, second), (back, second, first)):
        for k, segment in enumerate(mine):
            row = per_skill.setdefault(
                segment.skill or "(no skill)",
                {"segments": 0, "matched": 0, "tious": [], "same": 0},
            )
            row["segments"] += 1
            if k not in found:
                continue
            j, tiou = found[k]
            row["matched"] += 1
            row["tious"].append(tiou)
            row["same"] += int(theirs[j].skill == segment.skill)
