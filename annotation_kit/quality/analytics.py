"""Analytics: DuckDB over the workspace's own database, read-only, scoped by the library.

DuckDB attaches the workspace read-only — an SQLite file through the ``sqlite_scanner`` extension
(reading a live WAL file), PostgreSQL through ``postgres_scanner`` — both loaded from their PyPI
packages, so nothing is downloaded at run time. Analytics reads tables of the workspace's
names (``tasks``, ``annotations``, ``reviews``, ``events``...; never ``logins`` or the job
ledger): DuckDB's own columnar copy of them when nobody changed the workspace since the copy
was taken (SQLite's ``data_version``, PostgreSQL's WAL position say so), otherwise views that
read the workspace itself while a new copy is taken in the background. Reports always read
what was just written; on a workspace that did not change they cost only the query. Reports
come back as pandas data frames (``arrow=True``: Arrow tables).

Who sees what is decided here, as everywhere in the library: :meth:`Analytics.personal` is
anyone's own figures, :meth:`Analytics.reviewer` a reviewer's own reviews, and the team and
project reports and raw SQL (:meth:`Analytics.sql`, one ``SELECT`` over those views) are for
managers and admins.

Example::

    ws = ak.connect(user="maya")
    ws.analytics.team()                     # one row per annotator
    ws.analytics.sql("SELECT status, count(*) FROM tasks GROUP BY status")
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import sqlite3
import threading
import time
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import make_url

from ..access.workflow import Status, is_supervisor
from ..errors import NotFound, PermissionDenied, ValidationError

if TYPE_CHECKING:
    import duckdb

    from ..store.database import Database
    from ..workspace import Workspace

__all__ = ["TABLES", "Analytics"]

TABLES = (
    "users",
    "projects",
    "project_members",
    "datasets",
    "tasks",
    "task_members",
    "task_datasets",
    "skills",
    "skill_versions",
    "dictionaries",
    "annotations",
    "consensus",
    "gold_episodes",
    "reviews",
    "annotation_verdicts",
    "events",
)
"""What analytics may read. Not ``logins`` (password hashes), ``database_logins``, the job
ledger or exports (destinations)."""
TABLE_FUNCTIONS = frozenset({"range", "generate_series", "unnest"})
"""Table functions raw SQL may call (the scanners and file readers may not)."""
THREADS_ENV = "ANNOTATION_KIT_ANALYTICS_THREADS"
"""How many threads DuckDB may use (its default: every core); ``serve`` sets 1, so a report
never takes the cores the people saving need."""
_EXTENSIONS = {
    "sqlite": ("duckdb_extension_sqlite_scanner", "sqlite_scanner"),
    "postgresql": ("duckdb_extension_postgres_scanner", "postgres_scanner"),
}
SECOND = 1_000_000_000
IDLE_MINUTES = 5
"""Active editing time: gaps of at most this many minutes between one person's consecutive
annotation edits count as time spent; longer pauses do not."""


def _extension(backend: str) -> str:
    package, name = _EXTENSIONS[backend]
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        raise ValidationError(f"analytics on {backend} needs the package {package}")
    found = sorted(Path(spec.origin).parent.glob(f"extensions/*/{name}.duckdb_extension"))
    if not found:
        raise ValidationError(f"the package {package} holds no {name} extension")
    return str(found[-1])


class _Store:
    """The DuckDB side of one workspace database, shared by every handle on it (so one copy
    per process): views over the attached workspace, the columnar copy, the copying thread.

    An SQLite workspace is never opened by DuckDB's own SQLite (the scanner bundles one): two
    SQLite libraries in one process do not see each other's file locks, and the second to open
    a WAL database would truncate the shared-memory file the first has mapped (a crash, seen as
    a bus error). DuckDB reads *snapshots* instead: consistent copies of the workspace taken
    with Python's own SQLite (its online backup), in rollback-journal mode, which nobody else
    opens. A new snapshot is taken when the workspace changed."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._lock = threading.Lock()
        self._db: duckdb.DuckDBPyConnection | None = None
        """Views over the attached workspace (PostgreSQL) or its newest snapshot (SQLite)."""
        self._viewed: object = None
        """The change mark when the views' snapshot was taken (SQLite)."""
        self._copy_db: duckdb.DuckDBPyConnection | None = None
        """DuckDB's own columnar copy of the same tables, once one was taken."""
        self._copied: object = None
        """The workspace's change mark when the copy was taken."""
        self._copying: threading.Thread | None = None
        self._retired: list[tuple[duckdb.DuckDBPyConnection, Path | None]] = []
        """Connections replaced by newer ones: kept one generation (a report may still read
        through a cursor of one), then closed, their snapshot deleted."""
        self._snapshots: dict[int, Path] = {}
        """The snapshot each DuckDB connection reads (by ``id`` of the connection)."""
        self._folder: Path | None = None
        self._source = "ws"
        self._closed = False
        self._watch: sqlite3.Connection | None = None

    @property
    def _sqlite(self) -> bool:
        return self.db.url.startswith("sqlite")

    # ----- the connection ------------------------------------------------------------------

    def connection(self) -> duckdb.DuckDBPyConnection:
        """A cursor on DuckDB's columnar copy of the workspace when nobody changed the
        workspace since it was taken; otherwise on views that read the workspace itself (as
        current as a report can be: on SQLite a snapshot taken now) while a new copy is taken
        in the background."""
        with self._lock:
            mark = self._change_mark()
            if mark is not None and self._copy_db is not None and mark == self._copied:
                return self._copy_db.cursor()
            if self._db is None or (self._sqlite and mark != self._viewed):
                self._replace("_db", self._attach(views=True))
                self._viewed = mark
            if mark is not None and (self._copying is None or not self._copying.is_alive()):
                self._copying = threading.Thread(
                    target=self._take_copy, args=(mark,), name="analytics-copy", daemon=True
                )
                self._copying.start()
            return self._db.cursor()  # type: ignore[union-attr]

    def _replace(self, slot: str, con: duckdb.DuckDBPyConnection) -> None:
        """Put ``con`` in ``slot`` (``_db`` or ``_copy_db``); the one it replaces retires
        (called with the lock held)."""
        old = getattr(self, slot)
        setattr(self, slot, con)
        if old is not None:
            self._retire(old)

    def _retire(self, con: duckdb.DuckDBPyConnection) -> None:
        for done, snapshot in self._retired:
            done.close()
            if snapshot is not None:
                snapshot.unlink(missing_ok=True)
        self._retired = [(con, self._snapshots.pop(id(con), None))]

    def _forget(self, con: duckdb.DuckDBPyConnection) -> None:
        """Close a connection never put to use, and delete its snapshot."""
        con.close()
        snapshot = self._snapshots.pop(id(con), None)
        if snapshot is not None:
            snapshot.unlink(missing_ok=True)

    def _snapshot(self) -> Path:
        """A consistent copy of the SQLite workspace, made by Python's own SQLite."""
        import tempfile

        if self._folder is None:
            self._folder = Path(tempfile.mkdtemp(prefix="annotation-kit-analytics-"))
        path = (self.db.url and make_url(self.db.url).database) or ""
        handle, name = tempfile.mkstemp(suffix=".db", dir=self._folder)
        os.close(handle)  # SQLite opens it by name
        target = Path(name)
        source = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True)
        copy = sqlite3.connect(target)
        try:
            source.backup(copy)
            copy.execute("PRAGMA journal_mode=DELETE")  # no -wal, no -shm: a plain file
        finally:
            copy.close()
            source.close()
        return target

    def ready(self, timeout: float) -> bool:
        """See :meth:`Analytics.ready`."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                copying = self._copying
            self.connection().close()  # starts a copy when the current one is stale
            with self._lock:
                mark = self._change_mark()
                if mark is not None and self._copy_db is not None and mark == self._copied:
                    return True
                copying = self._copying
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            if copying is not None:
                copying.join(timeout=min(left, 1.0))
            else:
                time.sleep(min(left, 0.05))

    def _change_mark(self) -> object:
        """Something that moves whenever anyone commits a change to the workspace: SQLite's
        ``data_version`` (seen from a connection of our own that never writes), PostgreSQL's
        WAL position (any write in the cluster moves it: a copy too many, never one too
        few). None when it cannot be read: the views it is."""
        if self.db.url.startswith("sqlite"):
            if self._watch is None:
                path = make_url(self.db.url).database or ""
                self._watch = sqlite3.connect(
                    f"{Path(path).resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False
                )
            return self._watch.execute("PRAGMA data_version").fetchone()
        try:
            with self.db.engine.connect() as conn:
                return conn.exec_driver_sql("SELECT pg_current_wal_lsn()").scalar()
        except Exception:
            return None

    def _take_copy(self, mark: object) -> None:
        """Copy what analytics reads into DuckDB's own (columnar) tables, labelled with the
        change mark seen before the copy began: a change during the copy makes it stale at
        once. On PostgreSQL one database is refilled in a transaction (a report on the
        previous copy keeps reading it); on SQLite each copy is a new database, from a new
        snapshot, that replaces the previous one when it is complete."""
        try:
            # on SQLite the snapshot is taken outside the lock: reports go on meanwhile
            target = self._attach(views=False) if self._sqlite else None
            with self._lock:
                if self._closed:
                    if target is not None:
                        self._forget(target)
                    return
                if target is None:
                    if self._copy_db is None:
                        self._copy_db = self._attach(views=False)
                    target = self._copy_db
                con = target.cursor()
            con.execute("BEGIN TRANSACTION")
            try:
                for table in TABLES:
                    columns, origin, where = _source_of(table)
                    con.execute(
                        f"CREATE OR REPLACE TABLE main.{table} AS "
                        f"SELECT {columns} FROM {self._source}.{origin}{where}"
                    )
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
            finally:
                con.close()
            with self._lock:
                if self._sqlite:
                    if self._closed:
                        self._forget(target)
                        return
                    self._replace("_copy_db", target)
                self._copied = mark
        except Exception:  # the views still answer; the next report tries again
            logging.getLogger(__name__).debug("analytics copy failed", exc_info=True)

    def _attach(self, *, views: bool) -> duckdb.DuckDBPyConnection:
        """A DuckDB database with the workspace attached read-only, and ``views`` of the tables
        analytics reads (the copy's database gets tables instead)."""
        import duckdb

        url = make_url(self.db.url)
        backend = url.get_backend_name()
        if backend not in _EXTENSIONS:
            raise ValidationError(
                f"analytics reads SQLite and PostgreSQL workspaces, not {backend}"
            )
        config: dict[str, Any] = {
            "autoinstall_known_extensions": False,
            "autoload_known_extensions": False,
        }
        if threads := os.environ.get(THREADS_ENV):  # a served app: leave cores to the pages
            config["threads"] = max(1, int(threads))
        con = duckdb.connect(config=config)
        con.load_extension(_extension(backend))
        if backend == "sqlite":
            path = url.database or ""
            if not path or path == ":memory:":
                raise ValidationError("analytics needs a workspace file, not an in-memory one")
            snapshot = self._snapshot()  # never the live file: see the class's docstring
            self._snapshots[id(con)] = snapshot
            con.execute(f"ATTACH {_literal(str(snapshot))} AS ws (TYPE sqlite, READ_ONLY)")
            source = "ws"
        else:
            schema = _search_path(url) or "public"
            plain = url.set(drivername="postgresql", query={})
            target = plain.render_as_string(hide_password=False)
            try:
                con.execute(
                    f"ATTACH {_literal(target)} AS ws "
                    f"(TYPE postgres, READ_ONLY, SCHEMA {_literal(schema)})"
                )
            except duckdb.Error as exc:  # its message may carry the URL: never show that
                raise ValidationError(
                    f"analytics could not attach the PostgreSQL workspace at "
                    f"{plain.render_as_string(hide_password=True)} ({type(exc).__name__})"
                ) from None
            source = f'ws."{schema.replace(chr(34), chr(34) * 2)}"'
        self._source = source
        for table in TABLES if views else ():
            columns, origin, where = _source_of(table)
            con.execute(f"CREATE VIEW {table} AS SELECT {columns} FROM {source}.{origin}{where}")
        con.execute("SET TimeZone = 'UTC'")
        con.execute("SET enable_external_access = false")
        con.execute("SET lock_configuration = true")
        return con

    def close(self) -> None:
        """Close the DuckDB database."""
        with self._lock:
            self._closed = True
            copying = self._copying
            if copying is not None and copying.is_alive() and self._copy_db is not None:
                self._copy_db.interrupt()
        if copying is not None:
            copying.join(timeout=30)
        with self._lock:
            retired = [c for c, _snapshot in self._retired]
            for con in (self._db, self._copy_db, *retired):
                if con is not None:
                    con.close()
            self._db = self._copy_db = self._copying = None
            self._retired, self._viewed = [], None
            for snapshot in self._snapshots.values():
                snapshot.unlink(missing_ok=True)
            self._snapshots.clear()
            if self._folder is not None:
                import shutil

                shutil.rmtree(self._folder, ignore_errors=True)
                self._folder = None
            if self._watch is not None:
                self._watch.close()
                self._watch = None
            self._copied = None
            self._closed = False  # a closed handle may be used again: it attaches anew


_STORES_LOCK = threading.Lock()


def store_for(db: Database) -> _Store:
    """The one :class:`_Store` of ``db`` (made on first use)."""
    with _STORES_LOCK:
        found = db.__dict__.get("_analytics_store")
        if found is None:
            found = db.__dict__["_analytics_store"] = _Store(db)
        return found


def close_store(db: Database) -> None:
    """Close ``db``'s DuckDB side, if it has one (``Workspace.close``)."""
    found = db.__dict__.get("_analytics_store")
    if found is not None:
        found.close()


class Analytics:
    """Read-only DuckDB over one workspace, acting as its user (made by ``ws.analytics``)."""

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

    # ----- raw SQL -------------------------------------------------------------------------

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
        self._check_select(query)
        try:
            return self._query(query, params, arrow=arrow)
        except Exception as exc:
            raise ValidationError(f"the query failed: {exc}") from None

    def _check_select(self, query: object) -> None:
        import duckdb

        if not isinstance(query, str) or not query.strip():
            raise ValidationError("the query must be SQL text")
        try:
            statements = duckdb.extract_statements(query)
        except duckdb.Error as exc:
            raise ValidationError(f"the query is not valid SQL: {exc}") from None
        if len(statements) != 1 or statements[0].type != duckdb.StatementType.SELECT:
            raise ValidationError("only one SELECT statement may run (analytics is read-only)")
        tree = json.loads(
            self._connection().execute("SELECT json_serialize_sql(?)", [query]).fetchone()[0]  # type: ignore[index]
        )
        if tree.get("error"):
            raise ValidationError(f"the query is not valid SQL: {tree.get('error_message')}")
        ctes: set[str] = set()
        for node in _nodes(tree):
            for entry in (node.get("cte_map") or {}).get("map") or []:
                ctes.add(str(entry.get("key", "")).lower())
        for node in _nodes(tree):
            kind = node.get("type")
            if kind == "TABLE_FUNCTION":
                name = str((node.get("function") or {}).get("function_name", "")).lower()
                if name not in TABLE_FUNCTIONS:
                    raise PermissionDenied(f"the table function {name}() is not available here")
            elif kind == "BASE_TABLE":
                name = str(node.get("table_name", "")).lower()
                qualified = node.get("catalog_name") or node.get("schema_name") not in ("", "main")
                if qualified or (name not in TABLES and name not in ctes):
                    raise PermissionDenied(
                        f"{name!r} is not one of the tables analytics reads: {', '.join(TABLES)}"
                    )

    # ----- reports -------------------------------------------------------------------------

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

    def agreement(self, task: int, *, by: str = "pair", arrow: bool = False) -> Any:
        """Agreement between every two annotators on each independently annotated episode of
        ``task`` (:mod:`annotation_kit.work.consensus`; managers, admins and the task's
        reviewers): per episode and pair (``by="pair"``), segments of each, matched pairs, mean
        tIoU, boundary F1 at 0.1 / 0.5 / 1.0 s and the skill agreement (Krippendorff's alpha) — see
        :mod:`annotation_kit.work.agreement`; or per skill (``by="skill"``) over every episode
        and pair: segments of that skill, those matched, their mean tIoU and the share of matches
        given the same skill by the other annotator."""
        import pandas as pd

        from ..work.agreement import TOLERANCES_S, Segment, compare

        if by not in ("pair", "skill"):
            raise ValidationError(f"by must be 'pair' or 'skill', not {by!r}")
        if not isinstance(task, int) or isinstance(task, bool):
            raise ValidationError(f"task must be a task id, not {task!r}")
        self._require_exists("tasks", "id", task, "task with id")
        me = self._me()
        if not is_supervisor(me):
            reviews = self._query(
                "SELECT 1 FROM task_members WHERE task_id = ? AND user_id = ? "
                "AND duty = 'reviewer'",
                [task, me.id],
            )
            if reviews.empty:
                raise PermissionDenied(
                    f"{me.name} ({me.role}) may not read agreement on task #{task}: its "
                    "reviewers, managers and admins"
                )
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
                    matched = {i: (j, t) for i, j, t in got.pairs}
                    back = {j for _i, j, _t in got.pairs}
                    for side, mine, theirs in (
                        (0, people[first], people[second]),
                        (1, people[second], people[first]),
                    ):
                        for k, segment in enumerate(mine):
                            row = per_skill.setdefault(
                                segment.skill or "(no skill)",
                                {"segments": 0, "matched": 0, "tious": [], "same": 0},
                            )
                            row["segments"] += 1
                            if side == 0 and k in matched:
                                j, tiou = matched[k]
                            elif side == 1 and k in back:
                                i = next(i for i, jj, _t in got.pairs if jj == k)
                                j, tiou = i, matched[i][1]
                            else:
                                continue
                            row["matched"] += 1
                            row["tious"].append(tiou)
                            row["same"] += int(theirs[j].skill == segment.skill)
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
            found = self.agreement(int(row.task_id))
            if not found.empty:
                consistency.setdefault(str(row.project), []).extend(found.mean_tiou.dropna())
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
        from ..work import consensus, rules

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

        from ..work.agreement import TOLERANCES_S, Segment, compare, skill_alpha

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
        return self._query(
            f"""
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
                                FILTER (WHERE gap <= INTERVAL {IDLE_MINUTES} MINUTE), 0)
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
                       sum(duration_ns) / {3600 * SECOND}.0 AS hours
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
            """,
            params,
            arrow=arrow,
        )

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


def _source_of(table: str) -> tuple[str, str, str]:
    """What analytics' ``table`` is made of: columns, the workspace table, a condition."""
    if table == "users":
        return "* EXCLUDE (email, preferences)", "users", ""
    if table == "annotations":  # the annotators' work; the consensus copies apart
        return "*", "annotations", " WHERE CAST(consensus AS INTEGER) = 0"
    if table == "consensus":
        return "*", "annotations", " WHERE CAST(consensus AS INTEGER) = 1"
    return "*", table, ""


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


def _literal(text: str) -> str:
    """``text`` as an SQL string literal (ATTACH takes no parameters)."""
    return "'" + text.replace("'", "''") + "'"


def _search_path(url: Any) -> str | None:
    """The schema named by ``options=-csearch_path=...`` in a PostgreSQL URL, if any."""
    options = url.query.get("options")
    for option in [options] if isinstance(options, str) else list(options or []):
        for part in str(option).split():
            if "search_path=" in part:
                return part.split("search_path=", 1)[1].split(",")[0]
    return None


def _nodes(tree: Any) -> Any:
    """Every mapping in a JSON tree."""
    if isinstance(tree, dict):
        yield tree
        for value in tree.values():
            yield from _nodes(value)
    elif isinstance(tree, list):
        for value in tree:
            yield from _nodes(value)
