"""DataBrowser in a real browser under ``panel serve``: filter, select, create a task, with the
warning about datasets already in an active task; then check the database."""

import pytest

from annotation_kit.data import synthetic
from tests.conftest import make_team
from tests.ui.conftest import app_source, run_all_cells, shot, write_notebook

PANEL_APP = app_source("DataBrowserPanel")


@pytest.fixture
def workspace(tmp_path):
    url = f"sqlite:///{tmp_path / 'workspace.db'}"
    team = make_team(url)
    maya = team["maya"]
    maya.projects.create("lab")
    files = [
        synthetic.write_mcap(tmp_path / f"ep{i}.mcap", duration_s=2 + 3 * i, cameras=("w",), seed=i)
        for i in range(4)
    ]
    files.append(synthetic.write_aloha_hdf5(tmp_path / "episode_9.hdf5", duration_s=1))
    ids = maya.import_datasets(
        files, project="lab", tags=["<b>tag</b>"], progress=False
    ).dataset_ids
    maya.tasks.create("busy task", datasets=[ids[0]], annotators=["ann"])
    yield url, team, ids
    team["ada"].close()


def test_create_a_task_from_the_data_browser(workspace, panel_app, page):
    url, team, _ids = workspace
    server = panel_app(PANEL_APP, url, "maya")
    page.goto(server.url)
    page.wait_for_selector("[data-testid=data-browser]", timeout=30_000)
    page.wait_for_selector("text=Page 1 of 1 · 5 datasets")
    assert "<b>tag</b>" in page.inner_text("[data-testid=data-browser]")
    page.select_option("[data-testid=filter-format]", "mcap")
    page.wait_for_selector("text=Page 1 of 1 · 4 datasets")
    page.fill("[data-testid=filter-min_s]", "4")
    page.wait_for_selector("text=Page 1 of 1 · 3 datasets")
    page.fill("[data-testid=filter-min_s]", "")
    page.wait_for_selector("text=Page 1 of 1 · 4 datasets")
    page.click("[data-testid=select-all]")
    page.wait_for_selector("[data-testid=selected-count] >> text=4 selected")
    page.click("[data-testid=annotate]")
    page.wait_for_selector(
        "[data-testid=busy-warning] >> text=in 'busy task' (Pending)", timeout=10_000
    )
    page.fill("[data-testid=task-name]", "From the browser")
    page.fill("[data-testid=task-description]", "<script>window.__xss=1</script>")
    page.select_option("[data-testid=task-annotators]", ["ann", "ann2"])
    page.select_option("[data-testid=task-reviewers]", ["rita"])
    page.select_option("[data-testid=task-project]", "lab")
    page.fill("[data-testid=task-deadline]", "2026-12-24")
    page.click("[data-testid=create-task]")
    page.wait_for_selector("[data-testid=notice] >> text=created task 'From the browser'")
    [card] = team["ada"].task_queries.list_tasks(search="From the browser").items
    assert (card.annotators, card.reviewers, card.project) == (["ann", "ann2"], ["rita"], "lab")
    assert card.counts.datasets == 4 and card.deadline.date().isoformat() == "2026-12-24"
    assert card.description == "<script>window.__xss=1</script>"
    assert page.evaluate("window.__xss") is None
    page.select_option("[data-testid=filter-format]", "")
    page.wait_for_selector("text=Page 1 of 1 · 5 datasets")
    page.select_option("[data-testid=filter-assignment]", "unassigned")
    page.wait_for_selector("text=Page 1 of 1 · 1 datasets")  # only the HDF5 episode is left
    shot(page, "data_browser_panel")


def test_bad_filter_input_is_explained(workspace, panel_app, page):
    url, _team, _ids = workspace
    server = panel_app(PANEL_APP, url, "col")  # a collector: sees every dataset
    page.goto(server.url)
    page.wait_for_selector("[data-testid=data-browser]", timeout=30_000)
    page.fill("[data-testid=filter-since]", "last tuesday")
    page.wait_for_selector("[data-testid=error] >> text=uploaded since must be a date")
    page.click("[data-testid=row-1] input[type=checkbox]")
    page.wait_for_selector("[data-testid=selected-count] >> text=1 selected")
    assert page.locator("[data-testid=annotate]").count() == 0  # collectors create no tasks


def test_create_a_task_in_jupyterlab(workspace, jupyter_lab, page):
    url, team, ids = workspace
    write_notebook(
        jupyter_lab.root / "browser.ipynb",
        [
            "import annotation_kit as ak\nfrom annotation_kit.widgets import DataBrowser",
            f"browser = DataBrowser(ak.connect({url!r}, user='maya'))\nbrowser",
        ],
    )
    page.goto(jupyter_lab.notebook_url("browser.ipynb"))
    run_all_cells(page, 2)
    page.wait_for_selector("[data-testid=data-browser]", timeout=60_000)
    page.wait_for_selector("text=Page 1 of 1 · 5 datasets")
    page.select_option("[data-testid=filter-format]", "hdf5-aloha")
    page.wait_for_selector("text=Page 1 of 1 · 1 datasets")
    page.click("[data-testid=select-all]")
    page.wait_for_selector("[data-testid=selected-count] >> text=1 selected")
    page.click("[data-testid=annotate]")
    page.fill("[data-testid=task-name]", "ALOHA check")
    page.select_option("[data-testid=task-annotators]", ["ann"])
    page.click("[data-testid=create-task]")
    page.wait_for_selector("[data-testid=notice] >> text=created task 'ALOHA check'")
    [card] = team["ada"].task_queries.list_tasks(search="ALOHA check").items
    assert (card.annotators, card.counts.datasets) == (["ann"], 1)
    assert team["ada"].tasks.task_dataset_ids(card.id) == [ids[-1]]
    shot(page, "data_browser_jupyterlab")


def test_browse_an_s3_connection_and_import_from_it(
    workspace, panel_app, page, s3_endpoint, monkeypatch, tmp_path
):
    """A collector browses a bucket on a local S3-compatible server through a storage
    connection (its secrets only in the server's environment) and imports a folder from it."""
    import uuid

    import fsspec

    url, team, _ids = workspace
    bucket = f"shelf-{uuid.uuid4().hex[:8]}"
    fs = fsspec.filesystem("s3", skip_instance_cache=True)
    fs.mkdir(bucket)
    for i in range(2):
        made = synthetic.write_mcap(
            tmp_path / f"s3-{i}.mcap",
            duration_s=1,
            cameras=("w",),
            seed=i,
        )
        fs.put(str(made), f"{bucket}/runs/monday/ep{i}.mcap")
    monkeypatch.setenv("ANNOTATION_KIT_STORAGE_SHELF_KEY", "shelf-key")
    monkeypatch.setenv("ANNOTATION_KIT_STORAGE_SHELF_SECRET", "shelf-secret-9f2")
    team["ada"].storage.create("shelf", "s3", {"bucket": bucket, "endpoint_url": s3_endpoint})
    server = panel_app(PANEL_APP, url, "col")
    page.goto(server.url)
    page.wait_for_selector("text=Page 1 of 1 · 5 datasets", timeout=30_000)
    page.select_option("[data-testid=storage-connection]", "shelf")
    page.locator("[data-testid=storage-entries] >> text=runs/").click()
    page.locator("[data-testid=storage-monday]").wait_for()
    page.get_by_label("Import monday").check()
    page.click("[data-testid=storage-import]")
    page.wait_for_selector("[data-testid=notice] >> text=imported 2 dataset(s) from 1 source(s)")
    page.wait_for_selector("text=Page 1 of 1 · 7 datasets")
    shot(page, "data_browser_storage")
    stored = sorted(
        d.source_uri
        for d in team["ada"].datasets.list_datasets()
        if d.source_uri.startswith("storage")
    )
    assert stored == [
        "storage://shelf/runs/monday/ep0.mcap",
        "storage://shelf/runs/monday/ep1.mcap",
    ]
