"""Reports on quality: verdicts, rejections, completeness, gold (agreement between annotators:
:mod:`.agreement_reports`)."""

from __future__ import annotations

from typing import Any

from ...errors import NotFound, ValidationError
from .agreement_reports import AgreementReports


class QualityReports(AgreementReports):
    """How good the work is."""

    def quality_trend(
        self, *, period: str = "month", project: str | None = None, arrow: bool = False
    ) -> Any:
        """Per ``period`` (``day``, ``week``, ``month``) of the first review (managers and
        admins): tasks reviewed for the first time, the share that passed, and rejections
        (every round) decided in the period."""
        self._require_supervisor("read the quality trend")
        if period not in ("day", "week", "month"):
            raise ValidationError(f"period must be day, week or month, not {period!r}")
        where, params = self._filters("r.created_at", project, "p.name", None, None)
        return self._query(
            f"""
            WITH decided AS (
                SELECT r.task_id, r.round,
                       date_trunc('{period}', CAST(min(r.created_at) AS TIMESTAMP)) AS period,
                       bool_or(r.decision = 'reject') AS rejected
                FROM reviews r JOIN tasks t ON t.id = r.task_id
                LEFT JOIN projects p ON p.id = t.project_id
                WHERE {where}
                GROUP BY r.task_id, r.round
            )
            SELECT period, count(*) FILTER (WHERE round = 1) AS first_reviews,
                   avg(CASE WHEN NOT rejected THEN 1.0 ELSE 0.0 END)
                       FILTER (WHERE round = 1) AS first_pass_rate,
                   count(*) FILTER (WHERE rejected) AS rejections
            FROM decided GROUP BY period ORDER BY period
            """,
            params,
            arrow=arrow,
        )

    def quality(self, *, arrow: bool = False) -> Any:
        """Rejections by skill (managers and admins): per skill, the segments reviewers judged,
        those whose latest verdict is a rejection, the rejection rate, and the latest
        rejection comments (up to three)."""
        self._require_supervisor("read the quality report")
        return self._query(
            """
            WITH latest AS (
                SELECT annotation_id, last(decision ORDER BY id) AS decision,
                       last(comment ORDER BY id) AS comment, max(id) AS verdict
                FROM annotation_verdicts GROUP BY annotation_id
            )
            SELECT coalesce(s.name, '(no skill)') AS skill, count(*) AS judged,
                   count(*) FILTER (WHERE l.decision = 'reject') AS rejected,
                   avg(CASE WHEN l.decision = 'reject' THEN 1.0 ELSE 0.0 END) AS rejection_rate,
                   list(l.comment ORDER BY l.verdict DESC)
                       FILTER (WHERE l.decision = 'reject')[1:3] AS comments
            FROM latest l
            JOIN annotations a ON a.id = l.annotation_id
            LEFT JOIN skills s ON s.id = a.skill_id
            GROUP BY ALL ORDER BY rejection_rate DESC, skill
            """,
            arrow=arrow,
        )

    def rejections(self, *, annotator: str | None = None, arrow: bool = False) -> Any:
        """The rejections an annotator received, newest first: task, episode, annotation, its
        skill, review round, reviewer, comment and its anchor in seconds, when. Anyone's own
        (``annotator`` left out); another person's for managers and admins."""
        me = self._me()
        if annotator is None or annotator == me.name:
            who = me.id
        else:
            self._require_supervisor("read another person's rejections")
            found = self._query("SELECT id FROM users WHERE name = ?", [annotator])
            if found.empty:
                raise NotFound(f"no user named {annotator!r}")
            who = int(found.id.iloc[0])
        return self._query(
            """
            SELECT t.id AS task, t.name AS task_name, d.name AS episode, a.id AS annotation,
                   s.name AS skill, v.round, r.name AS reviewer, v.comment,
                   v.range_start_ns / 1e9 AS from_s, v.range_end_ns / 1e9 AS to_s,
                   CAST(v.created_at AS TIMESTAMP) AS at
            FROM annotation_verdicts v
            JOIN annotations a ON a.id = v.annotation_id
            JOIN tasks t ON t.id = a.task_id
            JOIN datasets d ON d.id = a.dataset_id
            JOIN users r ON r.id = v.reviewer_id
            LEFT JOIN skills s ON s.id = a.skill_id
            WHERE v.decision = 'reject' AND a.author_id = ?
            ORDER BY v.id DESC
            """,
            [who],
            arrow=arrow,
        )

    def quality_summary(self, *, arrow: bool = False) -> Any:
        """Per project (managers and admins; tasks without one as ``(none)``): tasks and those
        reviewed, first-pass rate, mean review rounds of the reviewed, accuracy (of judged
        annotations, the share whose latest verdict passed), consistency (mean tIoU between
        annotators on independent episodes), agreement with gold (mean tIoU), completeness
        (episodes done of those in tasks) and rule errors and warnings."""
        import numpy as np

        self._require_supervisor("read the quality summary")
        frame = self._query(
            """
            WITH decided AS (
                SELECT task_id, round, bool_or(decision = 'reject') AS rejected
                FROM reviews GROUP BY task_id, round
            ), per_task AS (
                SELECT t.id, coalesce(p.name, '(none)') AS project,
                       min(d.round) IS NOT NULL AS reviewed,
                       coalesce(bool_or(d.round = 1 AND NOT d.rejected), FALSE) AS first_pass,
                       max(d.round) AS rounds
                FROM tasks t LEFT JOIN projects p ON p.id = t.project_id
                LEFT JOIN decided d ON d.task_id = t.id
                GROUP BY t.id, p.name
            ), latest AS (
                SELECT annotation_id, last(decision ORDER BY id) AS decision
                FROM annotation_verdicts GROUP BY annotation_id
            ), judged AS (
                SELECT coalesce(p.name, '(none)') AS project,
                       avg(CASE WHEN l.decision = 'pass' THEN 1.0 ELSE 0.0 END) AS accuracy
                FROM latest l JOIN annotations a ON a.id = l.annotation_id
                JOIN tasks t ON t.id = a.task_id LEFT JOIN projects p ON p.id = t.project_id
                GROUP BY ALL
            )
            SELECT pt.project, count(*) AS tasks,
                   count(*) FILTER (WHERE pt.reviewed) AS reviewed,
                   CASE WHEN count(*) FILTER (WHERE pt.reviewed) = 0 THEN NULL
                        ELSE count(*) FILTER (WHERE pt.first_pass)
                             / count(*) FILTER (WHERE pt.reviewed) END AS first_pass_rate,
                   avg(pt.rounds) FILTER (WHERE pt.reviewed) AS mean_rounds,
                   max(j.accuracy) AS accuracy
            FROM per_task pt LEFT JOIN judged j ON j.project = pt.project
            GROUP BY pt.project ORDER BY pt.project
            """
        )
        complete = self.completeness()
        complete["project"] = complete["project"].fillna("(none)")
        totals = complete.groupby("project")[
            ["episodes", "done", "rule_errors", "rule_warnings"]
        ].sum()
        consistency = self._consistency()
        names = [n for n in frame.project if n != "(none)"]
        gold = {n: self.gold(project=n) for n in names}
        rows = []
        for record in frame.to_dict("records"):
            name = record["project"]
            total = totals.loc[name] if name in totals.index else None
            measured = gold.get(name)
            tious = consistency.get(name, [])
            rows.append(
                record
                | {
                    "consistency": float(np.mean(tious)) if tious else None,
                    "gold_tiou": float(measured.mean_tiou.mean())
                    if measured is not None and not measured.empty
                    else None,
                    "completeness": float(total.done / total.episodes)
                    if total is not None and total.episodes
                    else None,
                    "rule_errors": int(total.rule_errors) if total is not None else 0,
                    "rule_warnings": int(total.rule_warnings) if total is not None else 0,
                }
            )
        return self._frame(rows, arrow=arrow)

    def completeness(self, *, project: str | None = None, arrow: bool = False) -> Any:
        """Per task (managers and admins): its episodes, those done (annotated or marked
        invalid) and the share done, independent episodes still without a consensus, and the
        project's rule findings on it (errors and warnings; :mod:`annotation_kit.work.rules`)."""
        from ...work import consensus, rules

        self._require_supervisor("read completeness")
        where, params = self._filters("t.created_at", project, "p.name", None, None)
        frame = self._query(
            f"""
            WITH done AS (SELECT DISTINCT task_id, dataset_id FROM annotations
                          WHERE provenance = 'human')
            SELECT t.id AS task, t.name, p.name AS project, t.status,
                   count(td.dataset_id) AS episodes, count(d.dataset_id) AS done,
                   CASE WHEN count(td.dataset_id) = 0 THEN NULL
                        ELSE count(d.dataset_id) / count(td.dataset_id) END AS completeness,
                   coalesce(CAST(p.annotation_rules AS VARCHAR) NOT IN ('[]', ''), FALSE) AS ruled
            FROM tasks t
            LEFT JOIN projects p ON p.id = t.project_id
            LEFT JOIN task_datasets td ON td.task_id = t.id
            LEFT JOIN done d ON d.task_id = td.task_id AND d.dataset_id = td.dataset_id
            WHERE {where}
            GROUP BY ALL ORDER BY t.id
            """,
            params,
        )
        errors, warnings, unsettled = [], [], []
        with self.ws.transaction(write=False) as session:
            for row in frame.itertuples():
                found = rules.evaluate(session, int(row.task)) if bool(row.ruled) else []
                errors.append(sum(1 for f in found if f.severity == "error"))
                warnings.append(sum(1 for f in found if f.severity == "warning"))
                unsettled.append(len(consensus.without_consensus(session, int(row.task))))
        frame = frame.drop(columns=["ruled"]).assign(
            without_consensus=unsettled, rule_errors=errors, rule_warnings=warnings
        )
        if arrow:
            import pyarrow as pa

            return pa.Table.from_pandas(frame, preserve_index=False)
        return frame

    def gold(self, *, project: str | None = None, arrow: bool = False) -> Any:
        """Each annotator against the gold episodes (managers and admins): the reference
        segments of every gold episode (:mod:`annotation_kit.quality.gold`) beside that annotator's
        in any other task (``project``: that project's tasks): episodes compared, mean tIoU,
        boundary F1 at 0.1 / 0.5 / 1.0 s (means over episodes) and the skill agreement of all
        matched pairs (Krippendorff's alpha)."""
        import numpy as np
        import pandas as pd

        from ...work.agreement import TOLERANCES_S, Segment, compare, skill_alpha

        self._require_supervisor("read agreement with gold episodes")
        params: list[Any] = []
        where = ""
        if project is not None:
            self._require_exists("projects", "name", project, "project")
            where, params = "AND t.project_id = (SELECT id FROM projects WHERE name = ?)", [project]
        reference = self._query(
            """
            SELECT g.dataset_id, a.start_ns, a.end_ns, s.name AS skill
            FROM gold_episodes g
            JOIN task_datasets td ON td.task_id = g.task_id AND td.dataset_id = g.dataset_id
            JOIN (SELECT * FROM annotations UNION ALL SELECT * FROM consensus) a
              ON a.task_id = g.task_id AND a.dataset_id = g.dataset_id
             AND CAST(a.consensus AS INTEGER) = CAST(td.independent AS INTEGER)
            LEFT JOIN skills s ON s.id = a.skill_id
            WHERE a.kind = 'segment' AND a.valid
            ORDER BY g.dataset_id, a.start_ns
            """
        )
        work = self._query(
            f"""
            SELECT a.task_id, a.dataset_id, u.name AS annotator, a.start_ns, a.end_ns,
                   s.name AS skill
            FROM gold_episodes g
            JOIN annotations a ON a.dataset_id = g.dataset_id AND a.task_id <> g.task_id
            JOIN tasks t ON t.id = a.task_id
            JOIN task_members tm ON tm.task_id = a.task_id AND tm.user_id = a.author_id
                                AND tm.duty = 'annotator'
            JOIN users u ON u.id = a.author_id
            LEFT JOIN skills s ON s.id = a.skill_id
            WHERE a.kind = 'segment' AND a.valid {where}
            ORDER BY a.task_id, a.dataset_id, u.name, a.start_ns
            """,
            params,
        )

        def segments(frame: Any) -> list[Segment]:
            return [
                Segment(int(r.start_ns), int(r.end_ns), None if pd.isna(r.skill) else r.skill)
                for r in frame.itertuples()
            ]

        references = {int(d): segments(f) for d, f in reference.groupby("dataset_id")}
        per: dict[str, list[Any]] = {}
        for (_task, dataset, annotator), frame in work.groupby(
            ["task_id", "dataset_id", "annotator"], sort=True
        ):
            truth = references.get(int(dataset), [])
            theirs = segments(frame)
            per.setdefault(str(annotator), []).append((compare(truth, theirs), truth, theirs))
        out = []
        for annotator, found in sorted(per.items()):
            tious = [g.mean_tiou for g, _, _ in found if g.mean_tiou is not None]
            pairs = [(t[i].skill, w[j].skill) for g, t, w in found for i, j, _ in g.pairs]
            out.append(
                {
                    "annotator": annotator,
                    "episodes": len(found),
                    "mean_tiou": float(np.mean(tious)) if tious else None,
                    **{
                        f"boundary_f1_{t:g}s": float(
                            np.mean([g.boundary_f1[t] for g, _, _ in found])
                        )
                        for t in TOLERANCES_S
                    },
                    "skill_alpha": skill_alpha(pairs),
                }
            )
        return self._frame(out, arrow=arrow)
