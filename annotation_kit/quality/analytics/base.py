"""What every report stands on: the connection, the user, scoped queries, raw SQL, frames."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from ...access.workflow import is_supervisor
from ...errors import NotFound, PermissionDenied, ValidationError
from .copies import store_for
from .guard import check_select

if TYPE_CHECKING:
    import duckdb

    from ...workspace import Workspace

SECOND = 1_000_000_000

IDLE_MINUTES = 5
"""Active editing time: gaps of at most this many minutes between one person's consecutive
annotation edits count as time spent; longer pauses do not."""


def _day(value: date | str | None, what: str) -> date | None:
    """A date from a date, a datetime or an ISO ``YYYY-MM-DD`` text."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ValidationError(f"{what} must be a date (YYYY-MM-DD), not {value!r}") from None


ANNOTATORS_SQL = """
    WITH assigned AS (
        SELECT tm.user_id, tm.task_id FROM task_members tm
        JOIN tasks t ON t.id = tm.task_id
        WHERE tm.duty = 'annotator' AND {scope}
    ), mine AS (  -- their own work: not what came with the data or from a model
        SELECT a.* FROM annotations a
        JOIN assigned s ON s.user_id = a.author_id AND s.task_id = a.task_id
        WHERE a.provenance = 'human'
    ), judged AS (  -- each of their annotations' latest verdict
        SELECT m.author_id, last(v.decision ORDER BY v.id) AS decision
        FROM mine m JOIN annotation_verdicts v ON v.annotation_id = m.id
        GROUP BY m.id, m.author_id
    ), episodes AS (
        SELECT DISTINCT m.author_id, m.task_id, m.dataset_id, d.duration_ns
        FROM mine m JOIN datasets d ON d.id = m.dataset_id
    ), decided AS (  -- each task's decision per review round
        SELECT task_id, round, bool_or(decision = 'reject') AS rejected
        FROM reviews GROUP BY task_id, round
    ), edits AS (  -- each annotation edit of theirs, in the tasks in scope
        SELECT e.actor_id, CAST(e."at" AS TIMESTAMP) - lag(CAST(e."at" AS TIMESTAMP))
                   OVER (PARTITION BY e.actor_id ORDER BY e."at", e.id) AS gap
        FROM events e
        LEFT JOIN mine a ON a.id = e.object_id  -- their annotations (or a deleted one)
        WHERE e.object_type = 'annotation' AND e.action NOT LIKE 'review_%'
          AND (e.actor_id, coalesce(a.task_id,
                  TRY_CAST(json_extract_string(CAST(e.data AS VARCHAR), '$.task')
                           AS BIGINT)))
              IN (SELECT (user_id, task_id) FROM assigned)
    ), active AS (  -- gaps of at most IDLE between edits are time spent editing
        SELECT actor_id,
               coalesce(sum(epoch(gap))
                        FILTER (WHERE gap <= INTERVAL {idle} MINUTE), 0)
                   / 3600.0 AS hours
        FROM edits GROUP BY actor_id
    ), per_task AS (
        SELECT s.user_id, s.task_id,
               min(dc.round) IS NOT NULL AS reviewed,
               coalesce(bool_or(dc.round = 1 AND NOT dc.rejected), FALSE) AS first_pass,
               coalesce(sum(CASE WHEN dc.rejected THEN 1 ELSE 0 END), 0) AS rejections
        FROM assigned s LEFT JOIN decided dc ON dc.task_id = s.task_id
        GROUP BY s.user_id, s.task_id
    )
    SELECT u.name AS annotator,
           count(*) AS tasks,
           coalesce(max(n.annotations), 0) AS annotations,
           coalesce(max(n.segments), 0) AS segments,
           coalesce(max(e.episodes), 0) AS episodes,
           coalesce(max(e.hours), 0.0) AS hours,
           coalesce(max(act.hours), 0.0) AS active_hours,
           CASE WHEN coalesce(max(e.hours), 0) = 0 THEN NULL
                ELSE coalesce(max(act.hours), 0.0) / max(e.hours) END
               AS active_per_episode_hour,
           CAST(sum(CASE WHEN pt.reviewed THEN 1 ELSE 0 END) AS BIGINT) AS reviewed,
           CASE WHEN sum(CASE WHEN pt.reviewed THEN 1 ELSE 0 END) = 0 THEN NULL
                ELSE sum(CASE WHEN pt.first_pass THEN 1 ELSE 0 END)
                     / sum(CASE WHEN pt.reviewed THEN 1 ELSE 0 END) END AS first_pass_rate,
           CAST(sum(pt.rejections) AS BIGINT) AS rejections,
           coalesce(max(j.judged), 0) AS judged,
           max(j.accuracy) AS accuracy
    FROM per_task pt
    JOIN users u ON u.id = pt.user_id
    LEFT JOIN (
        SELECT author_id, count(*) AS annotations,
               count(*) FILTER (WHERE kind = 'segment') AS segments
        FROM mine GROUP BY author_id
    ) n ON n.author_id = pt.user_id
    LEFT JOIN (
        SELECT author_id, count(*) AS episodes,
               sum(duration_ns) / {hour_ns}.0 AS hours
        FROM episodes GROUP BY author_id
    ) e ON e.author_id = pt.user_id
    LEFT JOIN (
        SELECT author_id, count(*) AS judged,
               avg(CASE WHEN decision = 'pass' THEN 1.0 ELSE 0.0 END) AS accuracy
        FROM judged GROUP BY author_id
    ) j ON j.author_id = pt.user_id
    LEFT JOIN active act ON act.actor_id = pt.user_id
    GROUP BY u.name
    ORDER BY u.name
"""
"""Each annotator's work in the tasks in ``{scope}``: tasks, their own annotations and
segments, episodes and hours, active hours, first-pass rate, rejections and accuracy."""


class Reports:
    """Read-only DuckDB over one workspace, acting as its user."""

    def __init__(self, workspace: Workspace) -> None:
        self.ws = workspace
        self._store = store_for(workspace.db)

    def _connection(self) -> duckdb.DuckDBPyConnection:
        return self._store.connection()

    def close(self) -> None:
        """Close DuckDB (for every handle on this database; it opens again when used)."""
        self._store.close()

    def ready(self, timeout: float = 60.0) -> bool:
        """Wait until reports answer from a columnar copy of the workspace as it is now (True),
        or ``timeout`` seconds pass (False): for timing, or before a burst of reports."""
        return self._store.ready(timeout)

    def _me(self) -> Any:
        with self.ws.transaction(write=False) as session:
            return self.ws.me(session)

    def _query(self, sql: str, params: list[Any] | None = None, *, arrow: bool = False) -> Any:
        result = self._connection().execute(sql, params or [])
        return result.to_arrow_table() if arrow else result.df()

    def sql(self, query: str, params: list[Any] | None = None, *, arrow: bool = False) -> Any:
        """One read-only ``SELECT`` over the workspace's views (managers and admins).

        Tables: ``users`` (without e-mail addresses and settings), ``projects``,
        ``project_members``, ``datasets``, ``tasks``, ``task_members``, ``task_datasets``,
        ``skills``, ``skill_versions``, ``dictionaries``, ``annotations`` (the annotators'
        work), ``consensus`` (the copies reviewers picked on independently annotated
        datasets), ``gold_episodes``, ``reviews``, ``annotation_verdicts`` and ``events``.
        ``?`` placeholders take ``params``."""
        me = self._me()
        if not is_supervisor(me):
            raise PermissionDenied(f"{me.name} ({me.role}) may not run SQL: managers and admins")
        check_select(self._connection(), query)
        try:
            return self._query(query, params, arrow=arrow)
        except Exception as exc:
            raise ValidationError(f"the query failed: {exc}") from None

    def _frame(self, rows: list[dict[str, Any]], *, arrow: bool) -> Any:
        import pandas as pd

        frame = pd.DataFrame(rows)
        if arrow:
            import pyarrow as pa

            return pa.Table.from_pandas(frame, preserve_index=False)
        return frame

    def _require_exists(self, table: str, column: str, value: object, what: str) -> None:
        if self._query(f"SELECT 1 FROM {table} WHERE {column} = ? LIMIT 1", [value]).empty:
            raise NotFound(f"no {what} {value!r}")

    def _require_supervisor(self, what: str) -> None:
        me = self._me()
        if not is_supervisor(me):
            raise PermissionDenied(f"{me.name} ({me.role}) may not {what}: managers and admins")

    def _filters(
        self,
        column: str,
        project: str | None,
        project_column: str,
        since: date | str | None,
        until: date | str | None,
    ) -> tuple[str, list[Any]]:
        """SQL conditions (and their parameters) for a project and a date range."""
        where, params = ["TRUE"], []
        if project is not None:
            self._require_exists("projects", "name", project, "project")
            where.append(f"{project_column} = ?")
            params.append(project)
        first, last = _day(since, "since"), _day(until, "until")
        if first and last and last < first:
            raise ValidationError(f"until ({last}) is before since ({first})")
        if first:
            where.append(f"CAST({column} AS DATE) >= ?")
            params.append(first)
        if last:
            where.append(f"CAST({column} AS DATE) <= ?")
            params.append(last)
        return " AND ".join(where), params

    def _annotators(
        self, user_ids: list[int] | None, *, project: str | None = None, arrow: bool = False
    ) -> Any:
        params: list[Any] = []
        scope = "TRUE"
        if user_ids is not None:
            scope = f"tm.user_id IN ({', '.join('?' * len(user_ids))})"
            params += user_ids
        if project is not None:
            scope += " AND t.project_id = (SELECT id FROM projects WHERE name = ?)"
            params.append(project)
        sql = ANNOTATORS_SQL.format(scope=scope, idle=IDLE_MINUTES, hour_ns=3600 * SECOND)
        return self._query(sql, params, arrow=arrow)

    def _reviewers(self, user_ids: list[int] | None, *, arrow: bool = False) -> Any:
        params: list[Any] = []
        scope = "TRUE"
        if user_ids is not None:
            scope = f"r.reviewer_id IN ({', '.join('?' * len(user_ids))})"
            params += user_ids
        return self._query(
            f"""
            WITH submitted AS (
                SELECT object_id AS task_id, CAST("at" AS TIMESTAMP) AS sent FROM events
                WHERE object_type = 'task' AND to_state = 'pending_review'
            ), decided AS (
                SELECT r.id, r.reviewer_id, r.decision,
                       CAST(r.created_at AS TIMESTAMP) AS decided_at,
                       (SELECT max(s.sent) FROM submitted s
                        WHERE s.task_id = r.task_id
                          AND s.sent <= CAST(r.created_at AS TIMESTAMP)) AS submitted_at
                FROM reviews r WHERE {scope}
            )
            SELECT u.name AS reviewer, count(*) AS reviews,
                   count(*) FILTER (WHERE decision = 'pass') AS passes,
                   count(*) FILTER (WHERE decision = 'reject') AS rejections,
                   median(epoch(decided_at - submitted_at) / 3600.0) AS turnaround_hours_median,
                   avg(epoch(decided_at - submitted_at) / 3600.0) AS turnaround_hours_mean
            FROM decided d JOIN users u ON u.id = d.reviewer_id
            GROUP BY u.name ORDER BY u.name
            """,
            params,
            arrow=arrow,
        )
