"""AdminPanel in a real JupyterLab (the served Setup page is tested in test_served_app.py): a
manager adds a skill with a requirement, sets the hot-key order and writes a guideline; the
database says so."""

import pytest

from tests.conftest import make_team
from tests.ui.conftest import run_all_cells, shot, write_notebook


@pytest.fixture
def workspace(tmp_path):
    url = f"sqlite:///{tmp_path / 'workspace.db'}"
    team = make_team(url)
    team["maya"].skills.create("reach")
    team["maya"].projects.create("kitchen", members=["ann"])
    yield url, team
    team["ada"].close()


def test_set_up_the_library_in_jupyterlab(workspace, jupyter_lab, page):
    url, team = workspace
    write_notebook(
        jupyter_lab.root / "setup.ipynb",
        [
            "import annotation_kit as ak\nfrom annotation_kit.widgets import AdminPanel",
            f"panel = AdminPanel(ak.connect({url!r}, user='maya'))\npanel",
        ],
    )
    page.goto(jupyter_lab.notebook_url("setup.ipynb"))
    run_all_cells(page, 2)
    panel = page.locator("[data-testid=admin-panel]")
    panel.wait_for(timeout=60_000)
    tabs = [t.inner_text() for t in panel.locator("[data-testid^=tab-]").all()]
    assert tabs == ["Projects", "Skill library", "Dictionaries", "Guidelines"]  # no admin tabs
    panel.get_by_role("button", name="Skill library").click()
    panel.get_by_label("Skill name").fill("pick")
    panel.get_by_label("Skill category").fill("arm")
    panel.get_by_label("Skill requires").fill("reach")
    panel.get_by_role("button", name="Add skill").click()
    panel.locator("[data-testid=notice] >> text=skill pick added").wait_for()
    panel.get_by_label("Hot-key order").fill("pick, reach")
    panel.get_by_role("button", name="Set hot-key order").click()
    panel.locator("[data-testid=notice] >> text=hot-key order: pick, reach").wait_for()
    assert team["ada"].skills.requirements() == {"pick": ["reach"]}
    assert [s.name for s in team["ada"].skills.list_skills()] == ["pick", "reach"]
    panel.get_by_role("button", name="Guidelines").click()
    panel.get_by_label("Guideline name").select_option("kitchen")
    panel.get_by_role("button", name="Open").click()
    panel.get_by_label("Guideline (Markdown)").fill("Reach, then *pick*.")
    panel.get_by_role("button", name="Save a new version").click()
    panel.locator("[data-testid=guideline-preview] em >> text=pick").wait_for()
    assert team["ada"].guidelines.get(project="kitchen").body == "Reach, then *pick*."
    shot(page, "admin_panel_jupyterlab")
