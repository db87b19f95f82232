"""The core install (``pip install annotation-kit``, no extras) imports the library, opens an
SQLite workspace, shows the notebook widgets, and each optional part used without its extra
says which extra to install. Run in a fresh interpreter where the extras' packages cannot be
imported (as if never installed)."""

import subprocess
import sys
import textwrap

BLOCKED = ("panel", "bokeh", "plotly", "kaleido", "s3fs", "psycopg", "jupyterlab")

SCRIPT = textwrap.dedent(
    """
    import importlib.abc, sys

    class NotInstalled(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in BLOCKED:
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)

    sys.meta_path.insert(0, NotInstalled())

    import annotation_kit as ak
    from annotation_kit.errors import MissingExtra

    ws = ak.connect(f"sqlite:///{FOLDER}/workspace.db", user="admin")
    ws.users.create("ann", "annotator")
    print("users", [u.name for u in ws.users.list_users()])
    from annotation_kit.widgets import TaskBoard, TaskBoardPanel
    from annotation_kit.app import tasks_view

    print("board", type(TaskBoard(ws)).__name__, type(tasks_view(ws)).__name__)
    for what, act in [
        ("panel widget", lambda: TaskBoardPanel(ws)),
        ("dashboard", lambda: __import__("annotation_kit.app").app.TasksDashboard),
        ("charts", lambda: __import__("annotation_kit.quality.charts").quality.charts.overview(ws)),
        ("postgres", lambda: ak.connect("postgresql://127.0.0.1/test", user="admin")),
        ("s3", lambda: ws.import_datasets("s3://bucket/episode.mcap", progress=False)),
    ]:
        try:
            act()
        except MissingExtra as exc:
            print(what, "->", exc)
        else:
            print(what, "-> no error")
    """
)


def test_the_core_install_works_and_each_extra_is_named_when_missing(tmp_path):
    script = f"BLOCKED = {BLOCKED!r}\nFOLDER = {str(tmp_path)!r}\n" + SCRIPT
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    lines = dict(line.split(" ", 1) for line in done.stdout.splitlines())
    assert lines["users"] == "['admin', 'ann']"
    assert lines["board"] == "TaskBoard VBox"
    for what, extra in [
        ("panel", "serve"),
        ("dashboard", "serve"),
        ("charts", "charts"),
        ("postgres", "postgres"),
        ("s3", "s3"),
    ]:
        said = next(v for k, v in lines.items() if k == what.split()[0])
        assert f"pip install 'annotation-kit[{extra}]'" in said, (what, said)
