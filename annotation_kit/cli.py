"""The ``annotation-kit`` command line."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import click

from . import __version__
from .errors import AnnotationKitError
from .store.database import Database, default_url

URL = click.option(
    "--url",
    envvar="ANNOTATION_KIT_URL",
    default=None,
    help="Database URL (default: the embedded SQLite workspace).",
)


class _Group(click.Group):
    """Commands whose library errors (refusals, a missing extra) end as one line, no trace."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except AnnotationKitError as exc:
            raise click.ClickException(str(exc)) from None


@click.group(cls=_Group)
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
    from .demo import PEOPLE, demo_password

    people = ["ada"] + [p[0] for p in PEOPLE]
    click.echo("\nlog in to the dashboards (annotation-kit serve) as any of them:")
    click.echo("  " + ", ".join(f"{name} / {demo_password(name)}" for name in people))
    click.echo("\nor open it in JupyterLab (see notebooks/01_workspace_tour.ipynb):")
    click.echo(f"  ANNOTATION_KIT_URL=sqlite:///{target} .venv/bin/jupyter lab notebooks/")
    click.echo("  import annotation_kit as ak")
    click.echo(f'  ws = ak.connect("sqlite:///{target}", user="maya")')


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

    report = connect(url, user=user).import_datasets(list(sources), project=project, tags=tags)
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

    ws = connect(url, user=user)
    report = ws.users.import_csv(csv_file)
    click.echo(
        f"created {len(report.created)}, role changed {len(report.role_changed)}, "
        f"project memberships added {len(report.memberships_added)}"
    )


@users_group.command(name="set-password")
@click.argument("name")
@URL
@click.option("--user", envvar="ANNOTATION_KIT_USER", default=None, help="Act as this admin.")
@click.option("--stdin", "from_stdin", is_flag=True, help="Read the password from standard input.")
def set_password(name: str, url: str | None, user: str | None, from_stdin: bool) -> None:
    """Set the password NAME logs in to `annotation-kit serve` with (asked, never an argument).

    Admins set anyone's; a user sets their own after giving the current one."""
    from .workspace import connect

    ws = connect(url, user=user)
    if from_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt(
            f"new password for {name}", hide_input=True, confirmation_prompt=True
        )
    current = None
    if ws.user == name and ws.logins.has_password(name):
        with ws.transaction(write=False) as session:
            admin = ws.me(session).role == "admin"
        if not admin:
            current = click.prompt("current password", hide_input=True)
    ws.logins.set_password(name, password, current=current)
    click.echo(f"password of {name} set; their open sessions ended")


@main.command()
@URL
@click.option("--port", default=5006, show_default=True, help="Port to listen on.")
@click.option(
    "--address",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on (0.0.0.0 for every interface; put TLS or a proxy in front).",
)
@click.option("--prefix", default="", help="URL prefix behind a reverse proxy (e.g. /annotate).")
@click.option("--num-procs", default=1, show_default=True, help="Server processes (0: one a core).")
@click.option("--session-hours", default=12.0, show_default=True, help="How long a login lasts.")
@click.option(
    "--unused-session-seconds",
    default=15.0,
    show_default=True,
    help="Free a closed page's session (widgets, open episodes) this long after it closed.",
)
@click.option(
    "--allow-websocket-origin",
    "origins",
    multiple=True,
    help="host[:port] pages may be loaded from (a proxy's public name); repeatable.",
)
@click.option("--ssl-certfile", default=None, help="TLS certificate (PEM) to serve HTTPS.")
@click.option("--ssl-keyfile", default=None, help="TLS private key (PEM).")
@click.option(
    "--oidc-issuer",
    default=None,
    help="Also offer single sign-on through this OpenID Connect provider (client id and secret "
    "from $ANNOTATION_KIT_OIDC_CLIENT_ID / $ANNOTATION_KIT_OIDC_CLIENT_SECRET).",
)
@click.option(
    "--oidc-claim",
    default="email",
    show_default=True,
    help="The provider's claim that names the workspace user (by e-mail address or name).",
)
@click.option("--oidc-name", default="", help="What the login page calls the provider.")
@click.option(
    "--forwarded-allow-ips",
    default="",
    help="Comma-separated addresses or networks of proxies in front of the server whose "
    "X-Forwarded-For names the client (login throttling counts per client address).",
)
@click.option(
    "--workers",
    type=int,
    default=None,
    help="Background jobs a worker started beside the server runs at once (default: 1 on an "
    "SQLite workspace, 0 on PostgreSQL, whose workers run on machines of their own).",
)
@click.option("--show", is_flag=True, help="Open a browser on the login page.")
def serve(
    url: str | None,
    port: int,
    address: str,
    prefix: str,
    num_procs: int,
    session_hours: float,
    unused_session_seconds: float,
    origins: tuple[str, ...],
    ssl_certfile: str | None,
    ssl_keyfile: str | None,
    oidc_issuer: str | None,
    oidc_claim: str,
    oidc_name: str,
    forwarded_allow_ips: str,
    workers: int | None,
    show: bool,
) -> None:
    """Serve the workspace's dashboards to a team: each person logs in as themselves.

    The cookie secret comes from $ANNOTATION_KIT_COOKIE_SECRET or the file cookie-secret (mode
    0600) beside the workspace; the first admin from $ANNOTATION_KIT_ADMIN and
    $ANNOTATION_KIT_ADMIN_PASSWORD, or the terminal."""
    from .store._plugins import extra

    extra("serve", "panel", "annotation-kit serve")
    from .app import serve as run

    try:
        run(
            url,
            port=port,
            address=address,
            prefix=prefix,
            num_procs=num_procs,
            session_hours=session_hours,
            unused_session_seconds=unused_session_seconds,
            websocket_origins=origins,
            ssl_certfile=ssl_certfile,
            ssl_keyfile=ssl_keyfile,
            oidc_issuer=oidc_issuer,
            oidc_claim=oidc_claim,
            oidc_name=oidc_name,
            forwarded_allow_ips=tuple(i for i in forwarded_allow_ips.split(",") if i.strip()),
            workers=workers,
            show=show,
        )
    except (AnnotationKitError, PermissionError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None


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
@click.option("--parent", type=int, default=None, hidden=True, help="Stop when this process ends.")
def worker(
    url: str | None, queue: str | None, workers: int, threads: bool, parent: int | None
) -> None:
    """Run background jobs (exports, imports, data checks) until stopped (Ctrl+C / SIGTERM).

    Start any number, on any machine that reaches the database and the queue."""
    from .jobs.broker import default_queue
    from .jobs.worker import stop_with
    from .jobs.worker import worker as run

    if parent is not None:
        stop_with(parent)
    url = url or default_url()
    queue = queue or default_queue(url)
    click.echo(f"worker: {workers} at once, database {url.split('@')[-1]}, queue {queue}")
    run(url, queue, workers=workers, kind="thread" if threads else "process")


@main.command()
@URL
@click.option("--user", envvar="ANNOTATION_KIT_USER", default=None, help="Act as this user.")
def mail(url: str | None, user: str | None) -> None:
    """Mail notifications now to whoever asked for them (workers also do it on their own
    schedule); the SMTP server comes from $ANNOTATION_KIT_SMTP."""
    from .work.mail import SMTP_ENV, send_pending, smtp_settings
    from .workspace import connect

    if smtp_settings() is None:
        raise click.ClickException(f"no SMTP server: set {SMTP_ENV} (smtp://host:port)")
    sent = send_pending(connect(url, user=user))
    click.echo(f"mailed {sent} message(s)")


@main.group(name="storage")
def storage_group() -> None:
    """Named storage connections (secrets stay in the environment or the secrets file)."""


@storage_group.command(name="list")
@URL
@click.option("--user", envvar="ANNOTATION_KIT_USER", default=None, help="Act as this user.")
def storage_list(url: str | None, user: str | None) -> None:
    """The workspace's storage connections and their (non-secret) options."""
    from .workspace import connect

    found = connect(url, user=user).storage.list_connections()
    for c in found:
        options = ", ".join(f"{k}={v}" for k, v in sorted(c.options.items()))
        click.echo(f"{c.name}\t{c.kind}\t{options}")


@storage_group.command(name="test")
@click.argument("name")
@URL
@click.option("--user", envvar="ANNOTATION_KIT_USER", default=None, help="Act as this user.")
def storage_test(name: str, url: str | None, user: str | None) -> None:
    """Check that storage connection NAME can be listed with the secrets this machine has."""
    from .workspace import connect

    click.echo(connect(url, user=user).storage.test(name))


if __name__ == "__main__":
    main()
