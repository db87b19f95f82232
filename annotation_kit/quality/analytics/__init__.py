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
    ws.analytics.sql("SELECT status, count(*) FROM tasks GROUP BY status")"""

from __future__ import annotations

from .copies import TABLES, THREADS_ENV, close_store, store_for
from .quality_reports import QualityReports
from .work_reports import WorkReports

__all__ = ["TABLES", "THREADS_ENV", "Analytics", "close_store", "store_for"]


class Analytics(WorkReports, QualityReports):
    """Read-only DuckDB over one workspace, acting as its user (made by ``ws.analytics``)."""
