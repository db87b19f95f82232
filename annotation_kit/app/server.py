"""``annotation-kit serve``: the workspace served to a team. Everyone logs in as themselves
(:mod:`.auth`), sees the pages of their role (:mod:`.pages`), and every request acts as the
user of its session's cookie, with the library's permissions, exactly as in a notebook."""

from __future__ import annotations

import getpass
import logging
import os
import sys
from pathlib import Path
from typing import Any, cast

from sqlalchemy.orm import Session

from ..access import database_logins, logins, users
from ..access.workflow import Role
from ..errors import PermissionDenied, ValidationError
from ..quality.analytics import THREADS_ENV
from ..store.database import OPENED, Database
from ..store.locations import ROOTS_ENV, roots
from ..store.models import User
from ..workspace import Workspace
from . import news
from .auth import COOKIE, Provider, Sessions, cookie_secret
from .pages import BY_SLUG, PAGES, Page, home, navigation
from .workers import how_many
from .workers import start as start_workers

__all__ = ["ADMIN_ENV", "ADMIN_PASSWORD_ENV", "ensure_admin", "secret_folder", "serve"]

ADMIN_ENV = "ANNOTATION_KIT_ADMIN"
ADMIN_PASSWORD_ENV = "ANNOTATION_KIT_ADMIN_PASSWORD"
log = logging.getLogger(__name__)


def secret_folder(url: str) -> Path:
    """Where the cookie secret file lives: beside an SQLite workspace, else in the user data
    folder."""
    if url.startswith("sqlite:///"):
        return Path(url.removeprefix("sqlite:///")).resolve().parent
    import platformdirs

    return Path(platformdirs.user_data_dir("annotation-kit"))


def ensure_admin(db: Database) -> str | None:
    """Make sure an admin can log in: from ``$ANNOTATION_KIT_ADMIN`` (default ``admin``) and
    ``$ANNOTATION_KIT_ADMIN_PASSWORD``, else asked on the terminal. Returns the name of an admin
    created now (None if one could already log in)."""
    with db.transaction(write=False) as session:
        ready = any(
            u.role == Role.ADMIN and u.active and logins.has_password(session, u.name)
            for u in users.list_users(session)
        )
    if ready:
        return None
    name = os.environ.get(ADMIN_ENV, "admin")
    password = os.environ.get(ADMIN_PASSWORD_ENV, "")
    if not password:
        if not sys.stdin.isatty():
            raise ValidationError(
                "no admin of this workspace can log in yet: set $ANNOTATION_KIT_ADMIN and "
                "$ANNOTATION_KIT_ADMIN_PASSWORD, or run `annotation-kit users set-password` "
                "for an admin"
            )
        name = input(f"first admin's user name [{name}]: ").strip() or name
        password = getpass.getpass(f"password for {name}: ")
    with db.transaction() as session:
        if logins.bootstrap_admin(session, name, password):
            return name
    return None


def _check_service_login(db: Database) -> None:
    """Where database logins identify people, the server acts for everyone who logs in, so its
    own database login must be linked to an active admin."""
    with db.transaction(write=False) as session:
        service = database_logins.identify(session)
        if service is not None and users.get(session, service).role != Role.ADMIN:
            raise PermissionDenied(
                f"this server's database login identifies it as '{service}', who is not an "
                "admin: the served app acts for everyone, so link its login to an admin"
            )


class SessionWorkspace(Workspace):
    """The workspace of one browser session: it acts as the session's user only while their
    login is the one the session began with — a password change or a disabled user ends it at
    the next action, also on a page left open."""

    def __init__(self, db: Database, user: str, epoch: int) -> None:
        super().__init__(db, user)
        self.epoch = epoch

    def me(self, session: Session) -> User:
        """This session's user, refused once their login changed."""
        user = super().me(session)
        if logins.epoch(session, user.name) != self.epoch:
            raise PermissionDenied(
                "your session has ended (your password was changed): log in again"
            )
        return user


class _App:
    """What every session of one server shares: the database and the session checker."""

    def __init__(self, db: Database, sessions: Sessions, prefix: str) -> None:
        self.db, self.sessions, self.prefix = db, sessions, prefix

    def identity(self) -> tuple[str, Role, int] | None:
        """The user of the current session (its cookie, checked again), their role and the
        login epoch the session began with."""
        import panel as pn

        found = self.sessions.login_of(pn.state.cookies.get(COOKIE))
        if found is None:
            return None
        with self.db.transaction(write=False) as session:
            user = users.get(session, found[0])
            return (user.name, user.role, found[1]) if user.active else None

    def authorize(self, _user_info: Any, path: str) -> bool:
        """Panel's check before a page is served: False answers 403."""
        slug = path.removeprefix(self.prefix).strip("/")
        page = BY_SLUG.get(slug)
        if page is None:
            return True
        who = self.identity()
        return who is not None and who[1] in page.roles

    def page(self, page: Page | None) -> Any:
        """The function Panel runs for each new session of ``page`` (None: the home page)."""

        def build() -> Any:
            import panel as pn

            who = self.identity()
            if who is None:
                return pn.pane.HTML("<p data-testid='denied'>Your session has ended: log in.</p>")
            name, role, epoch = who
            token = self.sessions.logout_token(pn.state.cookies.get(COOKIE))
            if page is None:
                return home(name, role, self.prefix, logout=token)
            if role not in page.roles:
                return pn.pane.HTML(
                    f"<p data-testid='denied'>{page.title} is not for the {role} role.</p>"
                )
            document = pn.state.curdoc
            if document is not None:  # freed when the tab has been closed a while
                document.on_session_destroyed(lambda _context: log.info("%s closed a page", name))
            view = page.build(SessionWorkspace(self.db, name, epoch))
            board = getattr(view, "board", None)
            if board is not None:  # news written anywhere (another server, a notebook) shows
                news.start(self.db)
                news.watch(board, board.poke, name)
            return pn.Column(
                navigation(name, role, self.prefix, page.slug, logout=token),
                view,
                sizing_mode="stretch_width",
            )

        return build


def _charts_imported() -> None:
    """Import now what the first chart on a page would import: plotly loads its figure
    classes on first use (about a second of imports holding the interpreter), which would
    otherwise land on whoever opens Statistics first and on every page served meanwhile."""
    import plotly.graph_objs as go

    _ = go.Figure, go.FigureWidget


def _one_page_built_at_a_time() -> None:
    """Pages are built one at a time, still off the event loop. Bokeh 3.10 builds each new
    session's page in a worker thread, and Panel's page set-up is not safe to run in two
    threads at once: reading the page's address (``Location.from_request``) lifts and restores
    the read-only flags of parameters every page shares, so two pages opened together could
    fail with "Read-only parameter 'port' cannot be modified" (seen when five people reopened
    their pages after a restart). Building them in turn costs little: the build is Python work
    that takes turns for the interpreter anyway."""
    import threading

    from panel.io.application import Application

    if getattr(Application.initialize_document, "_in_turn", False):
        return
    build = Application.initialize_document
    turn = threading.Lock()

    def in_turn(self: Any, doc: Any) -> Any:
        with turn:
            return build(self, doc)

    in_turn._in_turn = True  # type: ignore[attr-defined]
    Application.initialize_document = in_turn


def _answers_without_delay() -> None:
    """Panel's websocket handler, with Nagle's algorithm off: a Bokeh message is several
    websocket frames written one after another, and the kernel would otherwise hold the later
    ones until the browser acknowledges the first (a delayed ACK: up to 40 ms per answer)."""
    from bokeh.server.urls import per_app_patterns
    from panel.io.server import WSHandler

    class NoDelay(WSHandler):
        def open(self, *args: Any, **kwargs: Any) -> Any:
            self.set_nodelay(True)
            return super().open(*args, **kwargs)

    for i, (path, handler, *rest) in enumerate(per_app_patterns):
        if handler is WSHandler:
            per_app_patterns[i] = cast(Any, (path, NoDelay, *rest))


def _tuned(num_procs: int) -> None:
    """The server process set up for a team: forked processes end with it and open their own
    database connections, answers go out without delay, pages are built one at a time,
    reports take one core and a waiting thread gets the interpreter soon."""
    if num_procs != 1:  # the processes tornado forks end with this one, however it ends
        from ..jobs.worker import stop_with

        parent = os.getpid()

        def end_with_the_parent() -> None:
            if os.getppid() == parent:  # tornado's processes, not what they fork themselves
                stop_with(parent)
                # connections opened before the fork are the parent's: a child uses its own
                for opened in OPENED:
                    if (database := opened()) is not None:
                        database.engine.dispose(close=False)

        os.register_at_fork(after_in_child=end_with_the_parent)
    _answers_without_delay()
    _one_page_built_at_a_time()
    os.environ.setdefault(THREADS_ENV, "1")  # reports take one core, never the pages' others
    # a thread waiting for the GIL (a save back from the database, the event loop) gets it
    # within 0.5 ms of a long computation's turn (a report's charts), not 5 ms: otherwise each
    # of a save's statements waits behind the report in turn
    sys.setswitchinterval(0.0005)


def serve(
    url: str | None = None,
    *,
    port: int = 5006,
    address: str = "127.0.0.1",
    prefix: str = "",
    num_procs: int = 1,
    session_hours: float = 12,
    unused_session_seconds: float = 15,
    websocket_origins: tuple[str, ...] = (),
    ssl_certfile: str | None = None,
    ssl_keyfile: str | None = None,
    oidc_issuer: str | None = None,
    oidc_claim: str = "email",
    oidc_name: str = "",
    forwarded_allow_ips: tuple[str, ...] = (),
    workers: int | None = None,
    show: bool = False,
) -> None:
    """Serve the workspace at ``url`` until stopped (see ``annotation-kit serve --help``)."""
    import panel as pn

    from ..store.database import default_url

    url = url or default_url()
    db = Database.open(url)
    _check_service_login(db)
    if created := ensure_admin(db):
        print(f"created the first admin: {created}")
    logging.basicConfig(  # after the migrations, whose INFO lines would otherwise show
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    prefix = "/" + prefix.strip("/") if prefix.strip("/") else ""
    provider = None
    if oidc_issuer:
        from .oidc import discover

        provider = discover(oidc_issuer, claim=oidc_claim, name=oidc_name)
    secret = cookie_secret(secret_folder(url))
    app = _App(db, Sessions(db, secret, hours=session_hours, trusted=forwarded_allow_ips), prefix)
    if roots() is None:
        log.warning(
            "no $%s: managers may import from and export to any path this server can reach; "
            "set it to the folders and storage prefixes they may use",
            ROOTS_ENV,
        )
    sign_on = None
    if provider is not None:
        from .oidc import sign_on as offer

        sign_on = offer(provider, app.sessions, prefix)
    pn.config.authorize_callback = app.authorize
    pn.config.auth_template = str(Path(__file__).parent / "denied.html")
    pn.extension("plotly")
    _charts_imported()
    if num_procs == 1:  # else each of tornado's processes starts its own on first use
        from . import _drawing

        _drawing.start()
    apps: dict[str, Any] = {"/": app.page(None)}
    apps |= {page.slug: app.page(page) for page in PAGES}
    origins = list(websocket_origins) or [f"{address}:{port}", f"localhost:{port}"]
    extra: dict[str, Any] = {}
    if ssl_certfile:
        extra |= {"ssl_certfile": ssl_certfile, "ssl_keyfile": ssl_keyfile}
    scheme = "https" if ssl_certfile else "http"
    jobs = how_many(url, workers)
    if jobs:
        from ..jobs.broker import default_queue

        start_workers(url, default_queue(url), jobs)
        print(f"a worker runs {jobs} background job(s) at once beside the server")
    print(f"serving the workspace at {scheme}://{address}:{port}{prefix}/")
    _tuned(num_procs)
    pn.serve(
        apps,
        port=port,
        address=address,
        websocket_origin=origins,
        show=show,
        # each tab says which page it is (Panel takes a title per route; its hint says str)
        title=cast(
            Any, {"/": "annotation_kit"} | {p.slug: f"{p.title} · annotation_kit" for p in PAGES}
        ),
        cookie_secret=secret,
        auth_provider=Provider(app.sessions, prefix, sign_on),
        prefix=prefix,
        num_procs=num_procs,
        # a closed browser tab's session (its widgets, open episodes) is freed this much later
        unused_session_lifetime_milliseconds=int(unused_session_seconds * 1000),
        check_unused_sessions_milliseconds=max(500, int(unused_session_seconds * 500)),
        **extra,
    )
