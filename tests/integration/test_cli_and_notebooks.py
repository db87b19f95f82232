"""The command line, migrations on an empty database, and the notebooks, run as a user would."""

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from sqlalchemy import inspect

import annotation_kit as ak
from annotation_kit.store.database import Database

ROOT = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-m", "annotation_kit.cli"]


def run(*args, env=None, cwd=None, check=True):
    result = subprocess.run(
        [*CLI, *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=120
    )
    if check:
        assert result.returncode == 0, result.stderr
    return result


def test_db_upgrade_creates_the_schema_on_both_backends(db_url):
    output = run("db", "upgrade", "--url", db_url).stdout
    assert "schema is up to date" in output
    db = Database.open(db_url, upgrade=False)
    tables = set(inspect(db.engine).get_table_names())
    assert {"tasks", "annotations", "events", "alembic_version"} <= tables
    db.dispose()
    assert "up to date" in run("db", "upgrade", "--url", db_url).stdout


def test_models_match_the_migrations(db_url):
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from annotation_kit.store.models import Base

    db = Database.open(db_url)
    with db.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
    db.dispose()


def test_demo_builds_every_status_and_is_idempotent(tmp_path):
    first = run("demo", "--dir", str(tmp_path / "demo")).stdout
    assert "Pending 2, In Progress 1, Pending Review 1, Review Passed 1, Data Submitted 1" in first
    assert "already exists" in run("demo", "--dir", str(tmp_path / "demo")).stdout
    ws = ak.connect(f"sqlite:///{tmp_path / 'demo' / 'workspace.db'}", user="maya")
    assert ws.task_queries.list_tasks().total == 6
    assert len(ws.datasets.list_datasets()) == 15


def test_users_import_command(tmp_path):
    url = f"sqlite:///{tmp_path / 'ws.db'}"
    ak.connect(url, user="ada").projects.create("kitchen")
    good = tmp_path / "people.csv"
    good.write_text("username,role,project\nzoe,annotator,kitchen\n")
    env = {**os.environ, "ANNOTATION_KIT_USER": "ada"}
    assert "created 1" in run("users", "import", str(good), "--url", url, env=env).stdout
    bad = tmp_path / "bad.csv"
    bad.write_text("username,role,project\nyan,chief,\n")
    failed = run("users", "import", str(bad), "--url", url, env=env, check=False)
    assert failed.returncode == 1 and "line 2: unknown role 'chief'" in failed.stderr


@pytest.mark.parametrize(
    "notebook", sorted((ROOT / "notebooks").glob("*.ipynb")), ids=lambda p: p.name
)
def test_notebook_runs_twice_against_a_fresh_demo(notebook, tmp_path, monkeypatch):
    """Each notebook runs on a fresh demo workspace, then again on the same one (a person runs
    a notebook more than once): both runs end without an error."""
    run("demo", "--dir", str(tmp_path / "demo"))
    monkeypatch.setenv("ANNOTATION_KIT_URL", f"sqlite:///{tmp_path / 'demo' / 'workspace.db'}")
    for attempt in ("first", "second"):
        nb = nbformat.read(notebook, as_version=4)
        NotebookClient(
            nb,
            timeout=120,
            kernel_name="python3",
            resources={"metadata": {"path": str(notebook.parent)}},
        ).execute()
        errors = [
            f"{o.ename}: {o.evalue}"
            for c in nb.cells
            for o in c.get("outputs", [])
            if o.output_type == "error"
        ]
        assert not errors, f"the {attempt} run of {notebook.name}: {errors}"


@pytest.mark.parametrize(
    "notebook", sorted((ROOT / "notebooks").glob("*.ipynb")), ids=lambda p: p.name
)
def test_notebooks_are_kept_without_outputs(notebook):
    """What JupyterLab autosaves (outputs, counts) never lands: a newcomer opens clean notebooks
    (clear them with ``jupyter nbconvert --clear-output --inplace notebooks/*.ipynb``)."""
    nb = nbformat.read(notebook, as_version=4)
    dirty = [
        i
        for i, cell in enumerate(nb.cells)
        if cell.cell_type == "code" and (cell.get("outputs") or cell.get("execution_count"))
    ]
    assert dirty == [], f"{notebook.name}: cells {dirty} carry outputs; clear them"
