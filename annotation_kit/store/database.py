"""Engines, sessions and schema migrations for SQLite (embedded default) and PostgreSQL.

SQLite is set up for several processes at once (notebook kernels, a Panel server, workers):
WAL journal, ``busy_timeout``, foreign keys on, and ``BEGIN IMMEDIATE`` for write transactions
while reads use a plain deferred ``BEGIN`` and so never hold the write lock. Every user action
runs in one short transaction (see :meth:`Database.transaction`).
"""

from __future__ import annotations

import os
import random
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs
from sqlalchemy import Engine, create_engine, event, make_url, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from ..errors import Busy, ConflictError

URL_ENV = "ANNOTATION_KIT_URL"
HOME_ENV = "ANNOTATION_KIT_HOME"
_WRITE = "annotation_kit_write"
_MIGRATIONS = Path(__file__).with_name("migrations")
LOCK_WAIT_S = 60.0
"""How long an SQLite transaction waits for the write lock before :class:`Busy`."""


def readonly[F: Callable[..., Any]](fn: F) -> F:
    """Mark a service function as read-only: the workspace runs it in a read transaction."""
    fn.__annotation_kit_readonly__ = True  # type: ignore[attr-defined]
    return fn


def is_readonly(fn: Callable[..., Any]) -> bool:
    """Whether ``fn`` only reads (marked by :func:`readonly`): it runs in a read transaction."""
    return getattr(fn, "__annotation_kit_readonly__", False)


def default_url() -> str:
    """``$ANNOTATION_KIT_URL``, else ``workspace.db`` in ``$ANNOTATION_KIT_HOME`` or user data."""
    if url := os.environ.get(URL_ENV):
        return url
    home = os.environ.get(HOME_ENV) or platformdirs.user_data_dir("annotation-kit")
    return f"sqlite:///{Path(home).expanduser().resolve() / 'workspace.db'}"


def normalise(url: str) -> str:
    """``url`` as annotation_kit opens it (PostgreSQL through psycopg 3)."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.drivername.startswith("postgresql"):
        from ._plugins import extra

        extra("postgres", "psycopg", "a PostgreSQL workspace")
    return parsed.render_as_string(hide_password=False)


OPENED: list[weakref.ref[Database]] = []
"""The databases this process opened (what ``storage://`` URLs are looked up in)."""


@dataclass
class Database:
    """One shared database: a write engine, a read engine, and their session factories."""

    url: str
    engine: Engine
    write_engine: Engine
    _writer: threading.RLock = field(default_factory=threading.RLock, repr=False)

    @classmethod
    def open(cls, url: str | None = None, *, upgrade: bool = True) -> Database:
        """Open (and, unless ``upgrade=False``, migrate) the database at ``url``."""
        url = normalise(url or default_url())
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite":
            engine = _sqlite_engine(parsed.database)
        else:
            engine = create_engine(url, pool_pre_ping=True)
        db = cls(url=url, engine=engine, write_engine=engine.execution_options(**{_WRITE: True}))
        if upgrade:
            db.upgrade()
        OPENED.append(weakref.ref(db))
        return db

    @property
    def dialect(self) -> str:
        """The SQL dialect's name: ``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    @contextmanager
    def transaction(self, *, write: bool = True) -> Iterator[Session]:
        """One transaction: committed when the block ends, rolled back on any error.

        Write transactions take SQLite's write lock at ``BEGIN`` (so two writers queue rather
        than deadlock); a stale ORM update surfaces as :class:`ConflictError`.
        """
        # SQLite has one writer at a time: this process's threads (a server's lanes) take
        # turns on a lock of ours rather than in SQLite's busy handler, which sleeps for ever
        # longer (up to 100 ms a time) between tries — the tail of every save under load
        turn = self._turn() if write and self.dialect == "sqlite" else nullcontext()
        # close_resets_only=False: a session used after its block raises instead of quietly
        # opening a transaction that nobody closes
        with (
            turn,
            Session(
                self.write_engine if write else self.engine,
                expire_on_commit=False,
                autoflush=True,
                close_resets_only=False,
            ) as session,
        ):
            try:
                with session.begin():
                    yield session
            except StaleDataError as exc:
                raise ConflictError(
                    "someone else changed this object while you were saving it; nothing was "
                    "overwritten. Reload and apply your change again."
                ) from exc

    @contextmanager
    def _turn(self) -> Iterator[None]:
        """This process's turn to write (SQLite), waiting at most ``LOCK_WAIT_S``."""
        if not self._writer.acquire(timeout=LOCK_WAIT_S):
            raise Busy(
                f"other writers of this process held the workspace database for {LOCK_WAIT_S:.0f}"
                " s; nothing was written. Try again"
            )
        try:
            yield
        finally:
            self._writer.release()

    def upgrade(self) -> None:
        """Bring the schema to the newest migration; a no-op when it is already there."""
        from alembic import command
        from alembic.config import Config
        from alembic.runtime.migration import MigrationContext
        from alembic.script import ScriptDirectory

        config = Config()
        config.set_main_option("script_location", str(_MIGRATIONS))
        head = ScriptDirectory.from_config(config).get_current_head()
        with self.engine.connect() as conn:
            if MigrationContext.configure(conn).get_current_revision() == head:
                return
        with self.write_engine.connect() as conn:
            sqlite = self.dialect == "sqlite"
            if sqlite:  # a migration may rebuild a table (drop, rename): no cascades meanwhile
                _driver(conn).execute("PRAGMA foreign_keys=OFF")
            try:
                with conn.begin():
                    if not sqlite:
                        # Several processes may open an empty database at once: one migrates.
                        conn.execute(text("SELECT pg_advisory_xact_lock(7236417001)"))
                    config.attributes["connection"] = conn
                    command.upgrade(config, "head")
                    broken = sqlite and conn.exec_driver_sql("PRAGMA foreign_key_check").all()
                    if broken:
                        raise RuntimeError(f"the migration broke foreign keys: {broken[:5]}")
            finally:
                if sqlite:
                    _driver(conn).execute("PRAGMA foreign_keys=ON")

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()


def _driver(conn: Any) -> Any:
    """The DB-API connection under a SQLAlchemy one (for PRAGMAs outside a transaction)."""
    driver = conn.connection.driver_connection
    assert driver is not None
    return driver


def create_private(path: Path) -> None:
    """Create the file ``path`` (empty) readable by its owner only, unless it exists. SQLite
    gives its ``-wal`` and ``-shm`` files the database file's mode: people's work, logins and
    audit log are nobody else's on a shared machine."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def _sqlite_engine(path: str | None) -> Engine:
    if not path or path == ":memory:":
        raise ValueError(
            "annotation_kit needs an SQLite *file* shared by several processes; "
            "pass a path such as sqlite:///workspace.db"
        )
    create_private(Path(path))
    engine = create_engine(f"sqlite:///{path}", connect_args={"timeout": 30})

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, _record: Any) -> None:
        # The driver must not open transactions itself: we emit BEGIN below.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        statement = "BEGIN IMMEDIATE" if conn.get_execution_options().get(_WRITE) else "BEGIN"
        # busy_timeout waits 5 s at a time; many writers can still starve one: try again with
        # jittered pauses for up to LOCK_WAIT_S, then say so in our own words
        deadline = time.monotonic() + LOCK_WAIT_S
        while True:
            try:
                conn.exec_driver_sql(statement)
                return
            except OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc):
                    raise
                if time.monotonic() > deadline:
                    raise Busy(
                        f"the workspace database {path} stayed locked by other writers for "
                        f"{LOCK_WAIT_S:.0f} s; nothing was written. Try again"
                    ) from exc
                time.sleep(random.uniform(0.005, 0.05))

    return engine
