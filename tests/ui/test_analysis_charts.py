"""The manager's charts in a real JupyterLab (Chromium): the overview figures render as plotly
charts in the notebook, as the served Statistics page shows them (on both backends: the
figures come from the same reports, tested on SQLite and PostgreSQL in
``tests/integration/test_analytics.py``; JupyterLab opens one notebook here)."""

from tests.conftest import SECOND, make_team
from tests.ui.conftest import run_all_cells, shot, write_notebook


def test_the_overview_charts_render_in_a_jupyterlab_notebook(tmp_path, jupyter_lab, page):
    team = make_team(f"sqlite:///{tmp_path / 'charts.db'}")
    maya, ann = team["maya"], team["ann"]
    maya.skills.create("reach")
    episodes = team.new_datasets_now(2)
    task = maya.tasks.create("charted", datasets=episodes, annotators=["ann"]).id
    ann.tasks.start(task)
    for episode in episodes:
        ann.annotations.add(task, episode, start_ns=0, end_ns=2 * SECOND, skill="reach")
    name = "charts.ipynb"
    write_notebook(
        jupyter_lab.root / name,
        [
            "import annotation_kit as ak\nfrom annotation_kit import charts\n"
            f"maya = ak.connect({maya.url!r}, user='maya')\n"
            "figures = charts.overview(maya, ['progress', 'skills'])",
            'figures["progress"]',
            'figures["skills"]',
        ],
    )
    page.set_viewport_size({"width": 1280, "height": 1100})
    page.goto(jupyter_lab.notebook_url(name))
    run_all_cells(page, 3)
    page.wait_for_selector(".jp-OutputArea .main-svg", timeout=60_000)
    page.wait_for_function(
        "() => document.querySelectorAll('.jp-OutputArea .js-plotly-plot').length >= 2",
        timeout=60_000,
    )
    titles = page.locator(".jp-OutputArea .gtitle").all_text_contents()
    assert titles == ["Annotated per person", "Segments per skill"]
    shot(page, "analysis_notebook_charts")
    team["ada"].close()
