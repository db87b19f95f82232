"""Reports on the work: people, tasks, volume, skills, labels, status times, burn-down."""

from __future__ import annotations

from datetime import date
from typing import Any

from ...access.workflow import Status
from ...errors import ValidationError
from .base import SECOND, Reports


class WorkReports(Reports):
    """Who did how much, on what, how fast."""

    def personal(self, *, arrow: bool = False) -> Any:
        """My own figures as an annotator (anyone): the row of :meth:`team` that is mine."""
        me = self._me()
        return self._annotators([me.id], arrow=arrow)

    def team(self, *, project: str | None = None, arrow: bool = False) -> Any:
        """Per annotator (managers and admins): tasks, annotations and segments, episodes and
        hours annotated, active editing hours (from the event log: gaps of at most
        :data:`IDLE_MINUTES` between their annotation edits) and those per episode-hour, tasks
        reviewed, first-pass rate (the first review passed), rejections received, and
        accuracy: of their annotations a reviewer judged, the share whose latest verdict is a
        pass; ``project`` limits it to that project's tasks."""
        self._require_supervisor("read the team's figures")
        if project is not None:
            self._require_exists("projects", "name", project, "project")
        return self._annotators(None, project=project, arrow=arrow)

    def reviewer(self, *, arrow: bool = False) -> Any:
        """My own reviews (anyone): the row of :meth:`reviewers` that is mine."""
        me = self._me()
        return self._reviewers([me.id], arrow=arrow)

    def reviewers(self, *, arrow: bool = False) -> Any:
        """Per reviewer (managers and admins): reviews, passes, rejections, and the review
        turnaround (submission to decision) in hours, median and mean."""
        self._require_supervisor("read the reviewers' figures")
        return self._reviewers(None, arrow=arrow)

    def tasks(self, *, project: str | None = None, arrow: bool = False) -> Any:
        """Every task's progress (managers and admins): status, episodes and those annotated,
        annotations (by people; ``imported``: those that came with the data or from a model),
        review rounds, and hours from creation to now or to passing review."""
        self._require_supervisor("read every task's progress")
        params: list[Any] = []
        where = ""
        if project is not None:
            self._require_exists("projects", "name", project, "project")
            where, params = "WHERE p.name = ?", [project]
        return self._query(
            f"""
            WITH per_task AS (
                SELECT td.task_id, count(*) AS episodes,
                       count(a.dataset_id) AS annotated,
                       sum(d.duration_ns) / {3600 * SECOND}.0 AS hours
                FROM task_datasets td
                JOIN datasets d ON d.id = td.dataset_id
                LEFT JOIN (SELECT DISTINCT task_id, dataset_id FROM annotations
                           WHERE provenance = 'human') a
                  ON a.task_id = td.task_id AND a.dataset_id = td.dataset_id
                GROUP BY td.task_id
            ), notes AS (  -- people's annotations; those from the data or a model apart
                SELECT task_id, count(*) FILTER (WHERE provenance = 'human') AS annotations,
                       count(*) FILTER (WHERE provenance <> 'human') AS imported
                FROM annotations GROUP BY task_id
            )
            SELECT t.id AS task, t.name, p.name AS project, t.status,
                   coalesce(pt.episodes, 0) AS episodes, coalesce(pt.annotated, 0) AS annotated,
                   coalesce(pt.hours, 0) AS hours, coalesce(n.annotations, 0) AS annotations,
                   coalesce(n.imported, 0) AS imported, t.review_round AS round,
                   CASE WHEN coalesce(pt.episodes, 0) = 0 THEN 0.0
                        ELSE pt.annotated / pt.episodes END AS progress,
                   CAST(t.created_at AS TIMESTAMP) AS created_at,
                   CAST(t.passed_at AS TIMESTAMP) AS passed_at
            FROM tasks t
            LEFT JOIN projects p ON p.id = t.project_id
            LEFT JOIN per_task pt ON pt.task_id = t.id
            LEFT JOIN notes n ON n.task_id = t.id
            {where}
            ORDER BY t.id
            """,
            params,
            arrow=arrow,
        )

    def volume(
        self,
        *,
        by: str = "format",
        period: str = "month",
        project: str | None = None,
        since: date | str | None = None,
        until: date | str | None = None,
        arrow: bool = False,
    ) -> Any:
        """Recordings imported per ``period`` (``day``, ``week``, ``month``) and per ``by``
        (``format``, ``robot`` or ``project``): episodes and hours (managers and admins);
        ``project``, and imported ``since`` / ``until`` (dates, both included) narrow it."""
        self._require_supervisor("read the data volume")
        keys = {"format": "d.format", "robot": "d.robot", "project": "p.name"}
        if by not in keys:
            raise ValidationError(f"by must be one of {', '.join(keys)}, not {by!r}")
        if period not in ("day", "week", "month"):
            raise ValidationError(f"period must be day, week or month, not {period!r}")
        where, params = self._filters("d.created_at", project, "p.name", since, until)
        return self._query(
            f"""
            SELECT date_trunc('{period}', CAST(d.created_at AS TIMESTAMP)) AS period,
                   coalesce(nullif({keys[by]}, ''), '(none)') AS {by},
                   count(*) AS episodes, sum(d.duration_ns) / {3600 * SECOND}.0 AS hours
            FROM datasets d LEFT JOIN projects p ON p.id = d.project_id
            WHERE {where}
            GROUP BY ALL ORDER BY ALL
            """,
            params,
            arrow=arrow,
        )

    def skills(
        self,
        *,
        project: str | None = None,
        since: date | str | None = None,
        until: date | str | None = None,
        arrow: bool = False,
    ) -> Any:
        """Per skill (managers and admins): segments, their mean length in seconds, the
        annotators who used it, and the share of its reviewed segments that passed;
        ``project`` (of the task), and made ``since`` / ``until`` (dates) narrow it."""
        self._require_supervisor("read skill usage")
        where, params = self._filters("a.created_at", project, "p.name", since, until)
        joins = (
            "JOIN tasks t ON t.id = a.task_id LEFT JOIN projects p ON p.id = t.project_id"
            if project is not None
            else ""
        )
        return self._query(
            f"""
            WITH verdicts AS (  -- each judged annotation's latest verdict
                SELECT annotation_id, arg_max(decision, id) AS decision
                FROM annotation_verdicts GROUP BY annotation_id
            ), per_skill AS (  -- by id first, then named: one small join at the end
                SELECT a.skill_id, count(*) AS segments,
                       avg(a.end_ns - a.start_ns) / 1e9 AS mean_seconds,
                       count(DISTINCT a.author_id) AS annotators,
                       avg(CASE v.decision WHEN 'pass' THEN 1.0 WHEN 'reject' THEN 0.0 END)
                           AS passed_share
                FROM annotations a
                {joins}
                LEFT JOIN verdicts v ON v.annotation_id = a.id
                WHERE a.kind = 'segment' AND {where}
                GROUP BY a.skill_id
            )
            SELECT coalesce(s.name, '(no skill)') AS skill, segments, mean_seconds,
                   annotators, passed_share
            FROM per_skill LEFT JOIN skills s ON s.id = per_skill.skill_id
            ORDER BY segments DESC, skill
            """,
            params,
            arrow=arrow,
        )

    def labels(self, *, project: str | None = None, arrow: bool = False) -> Any:
        """Per label (managers and admins): the dictionaries that hold it, the annotations
        that carry it and the annotators who used it; ``project`` limits it to its tasks."""
        self._require_supervisor("read label usage")
        where, params = self._filters("a.created_at", project, "p.name", None, None)
        return self._query(
            f"""
            WITH used AS (
                SELECT unnest(from_json(CAST(a.labels AS VARCHAR), '["VARCHAR"]')) AS label,
                       a.id, a.author_id
                FROM annotations a JOIN tasks t ON t.id = a.task_id
                LEFT JOIN projects p ON p.id = t.project_id
                WHERE {where}
            ), held AS (
                SELECT unnest(from_json(CAST(entries AS VARCHAR), '["VARCHAR"]')) AS label,
                       name
                FROM dictionaries
            )
            SELECT u.label,
                   coalesce((SELECT string_agg(DISTINCT h.name, ', ' ORDER BY h.name)
                             FROM held h WHERE h.label = u.label), '') AS dictionaries,
                   count(DISTINCT u.id) AS annotations,
                   count(DISTINCT u.author_id) AS annotators
            FROM used u GROUP BY u.label ORDER BY annotations DESC, u.label
            """,
            params,
            arrow=arrow,
        )

    def status_times(self, *, project: str | None = None, arrow: bool = False) -> Any:
        """Per task (managers and admins), from the event log: hours spent in each status so
        far (the current one up to now) and the cycle time, from creation to Review Passed
        (empty until then)."""
        self._require_supervisor("read the time tasks spend in each status")
        where, params = self._filters("t.created_at", project, "p.name", None, None)
        statuses = [s.value for s in Status]
        spent = ", ".join(
            f"coalesce(sum(hours) FILTER (WHERE state = '{s}'), 0.0) AS \"{s}\"" for s in statuses
        )
        return self._query(
            f"""
            WITH changes AS (
                SELECT e.object_id AS task_id, e.to_state AS state,
                       CAST(e."at" AS TIMESTAMP) AS since,
                       lead(CAST(e."at" AS TIMESTAMP), 1, CAST(now() AS TIMESTAMP))
                           OVER (PARTITION BY e.object_id ORDER BY e."at", e.id) AS until
                FROM events e
                WHERE e.object_type = 'task' AND e.to_state IS NOT NULL
                  AND e.to_state IN ({", ".join(f"'{s}'" for s in statuses)})
            ), spans AS (
                SELECT task_id, state, epoch(until - since) / 3600.0 AS hours FROM changes
            )
            SELECT t.id AS task, t.name, p.name AS project, t.status, {spent},
                   epoch(CAST(t.passed_at AS TIMESTAMP) - CAST(t.created_at AS TIMESTAMP))
                       / 3600.0 AS cycle_hours
            FROM tasks t
            LEFT JOIN projects p ON p.id = t.project_id
            LEFT JOIN spans sp ON sp.task_id = t.id
            WHERE {where}
            GROUP BY t.id, t.name, p.name, t.status, t.passed_at, t.created_at
            ORDER BY t.id
            """,
            params,
            arrow=arrow,
        )

    def burndown(
        self, *, project: str | None = None, window_days: int = 7, arrow: bool = False
    ) -> Any:
        """Per day (managers and admins; ``project``'s tasks): episodes in tasks by then,
        episodes done (first annotated or marked invalid) by then, those remaining, the pace
        (episodes done per day over the last ``window_days``) and the estimate of days left at
        that pace — day after day, so the estimate's trend shows."""
        self._require_supervisor("read the burn-down")
        if isinstance(window_days, bool) or not isinstance(window_days, int) or window_days < 1:
            raise ValidationError(f"window_days must be a whole number ≥ 1, not {window_days!r}")
        where, params = self._filters("t.created_at", project, "p.name", None, None)
        return self._query(
            f"""
            WITH episodes AS (
                SELECT td.task_id, td.dataset_id, CAST(t.created_at AS DATE) AS added
                FROM task_datasets td JOIN tasks t ON t.id = td.task_id
                LEFT JOIN projects p ON p.id = t.project_id
                WHERE {where}
            ), done AS (
                SELECT e.task_id, e.dataset_id, CAST(min(a.created_at) AS DATE) AS day
                FROM episodes e JOIN annotations a
                  ON a.task_id = e.task_id AND a.dataset_id = e.dataset_id
                WHERE a.provenance = 'human'
                GROUP BY ALL
            ), days AS (
                SELECT CAST(unnest(generate_series(
                    (SELECT min(added) FROM episodes),
                    greatest((SELECT max(added) FROM episodes),
                             coalesce((SELECT max(day) FROM done), DATE '1970-01-01'),
                             CAST(now() AS DATE)),
                    INTERVAL 1 DAY)) AS DATE) AS day
            ), per_day AS (
                SELECT d.day,
                       (SELECT count(*) FROM episodes e WHERE e.added <= d.day) AS episodes,
                       (SELECT count(*) FROM done x WHERE x.day <= d.day) AS done,
                       (SELECT count(*) FROM done x
                        WHERE x.day > d.day - {window_days} AND x.day <= d.day)
                           / {window_days}.0 AS pace
                FROM days d
            )
            SELECT day, episodes, done, episodes - done AS remaining, pace,
                   CASE WHEN pace > 0 THEN (episodes - done) / pace END AS days_left
            FROM per_day ORDER BY day
            """,
            params,
            arrow=arrow,
        )
