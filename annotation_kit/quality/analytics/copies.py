"""DuckDB's side of a workspace database: the attached workspace (read-only), the columnar copy
of what analytics reads, taken in the background when the workspace changed, one per process."""

from __future__ import annotations

import importlib.util
import logging
import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import make_url

from ...errors import MissingExtra, ValidationError

if TYPE_CHECKING:
    import duckdb

    from ...store.database import Database


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

THREADS_ENV = "ANNOTATION_KIT_ANALYTICS_THREADS"
"""How many threads DuckDB may use (its default: every core); ``serve`` sets 1, so a report
never takes the cores the people saving need."""

_EXTENSIONS = {
    "sqlite": ("duckdb_extension_sqlite_scanner", "sqlite_scanner"),
    "postgresql": ("duckdb_extension_postgres_scanner", "postgres_scanner"),
}


def _extension(backend: str) -> str:
    package, name = _EXTENSIONS[backend]
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        extra = "'postgres' extra (pip install 'annotation-kit[postgres]')"
        raise MissingExtra(
            f"analytics on {backend} needs the package {package}"
            + (f": the {extra}" if backend == "postgresql" else "")
        )
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


def _source_of(table: str) -> tuple[str, str, str]:
    """What analytics' ``table`` is made of: columns, the workspace table, a condition."""
    if table == "users":
        return "* EXCLUDE (email, preferences)", "users", ""
    if table == "annotations":  # the annotators' work; the consensus copies apart
        return "*", "annotations", " WHERE CAST(consensus AS INTEGER) = 0"
    if table == "consensus":
        return "*", "annotations", " WHERE CAST(consensus AS INTEGER) = 1"
    return "*", table, ""


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
