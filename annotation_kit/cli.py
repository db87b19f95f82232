"""The ``annotation-kit`` command line."""

from __future__ import annotations

import shutil
from pathlib import Path

import click

from . import __version__
from .database import Database, default_url
from .errors import AnnotationKitError

URL = click.option(
    "--url",
    envvar="ANNOTATION_KIT_URL",
    default=None,
    help="Database URL (default: the embedded SQLite workspace).",
)


@click.group()
@click.version_option(__version__)
def main() -> None:
    """annotation_kit: annotate robot episodes, review them, export training data."""


@main.group()
def db() -> None:
    """Database schema commands."""


@db.command()
@URL
def upgrade(url: str | None) -> None:
    """Migrate the database schema to the newest version."""
    database = Database.open(url, upgrade=False)
    database.upgrade()
    click.echo(f"schema is up to date: {database.engine.url.render_as_string()}")


@main.command()
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("demo-workspace"),
    show_default=True,
    help="Where the demo workspace's SQLite file goes.",
)
@click.option("--reset", is_flag=True, help="Delete an existing demo workspace first.")
def demo(directory: Path, reset: bool) -> None:
    """Create a demo workspace with users, a project, episodes and tasks in every status."""
    from .demo import build

    target = directory.resolve() / "workspace.db"
    if reset and directory.exists():
        shutil.rmtree(directory)
    if target.exists():
        click.echo(f"demo workspace already exists at {target} (use --reset to rebuild it)")
    else:
        summary = build(f"sqlite:///{target}")
        click.echo(f"created a demo workspace at {target}")
        click.echo(f"  users:    {', '.join(summary.users)} (ada is admin, maya manager)")
        click.echo(f"  datasets: {summary.datasets} episodes in project kitchen-pick")
        click.echo("  tasks:    " + ", ".join(f"{k} {v}" for k, v in summary.tasks.items()))
    click.echo("\nopen it from Python or a notebook (see notebooks/01_workspace_tour.ipynb):")
    click.echo("  import annotation_kit as ak")
    click.echo(f'  ws = ak.connect("sqlite:///{target}", user="maya")')
    click.echo("  ws.task_queries.board().counts")


@main.command(name="import")
@click.argument("sources", nargs=-1, required=True)
@URL
@click.option("--user", envvar="ANNOTATION_KIT_USER", default=None, help="Act as this user.")
@click.option("--project", default=None, help="Put the datasets in this project.")
@click.option("--tag", "tags", multiple=True, help="Tag the datasets (repeatable).")
def import_command(
    sources: tuple[str, ...],
    url: str | None,
    user: str | None,
    project: str | None,
    tags: tuple[str, ...],
) -> None:
    """Index MCAP/HDF5 files and LeRobot folders (paths or s3:// URLs) as datasets."""
    from .workspace import connect

    try:
        report = connect(url, user=user).import_datasets(list(sources), project=project, tags=tags)
    except AnnotationKitError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(str(report))
    if report.failed:
        raise SystemExit(1)


@main.group(name="users")
def users_group() -> None:
    """User management."""


@users_group.command(name="import")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@URL
@click.option("--user", envvar="ANNOTATION_KIT_USER", default=None, help="Act as this admin.")
def import_users(csv_file: Path, url: str | None, user: str | None) -> None:
    """Create or update users from a CSV file with the header username,role,project."""
    from .workspace import connect

    try:
        ws = connect(url, user=user)
        report = ws.users.import_csv(csv_file)
    except AnnotationKitError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(
        f"created {len(report.created)}, role changed {len(report.role_changed)}, "
        f"project memberships added {len(report.memberships_added)}"
    )


@main.command()
def where() -> None:
    """Print the default workspace URL."""
    click.echo(default_url())


@main.command()
@URL
@click.option(
    "--queue",
    envvar="ANNOTATION_KIT_QUEUE",
    default=None,
    help="Queue URL: sqlite:///file (default: queue.db beside the workspace) or redis://...",
)
@click.option("--workers", "-w", default=2, show_default=True, help="Jobs run at once.")
@click.option(
    "--threads", is_flag=True, help="Run jobs in threads instead of processes (light jobs)."
)
def worker(url: str | None, queue: str | None, workers: int, threads: bool) -> None:
    """Run background jobs (exports, imports, data checks) until stopped (Ctrl+C / SIGTERM).

    Start any number, on any machine that reaches the database and the queue."""
    from .jobs.broker import default_queue
    from .jobs.worker import worker as run

    url = url or default_url()
    queue = queue or default_queue(url)
    click.echo(f"worker: {workers} at once, database {url.split('@')[-1]}, queue {queue}")
    run(url, queue, workers=workers, kind="thread" if threads else "process")


if __name__ == "__main__":
    main()
