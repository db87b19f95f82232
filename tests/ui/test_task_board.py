"""TaskBoard in a real browser: under ``panel serve`` and in JupyterLab, same ESM. Each test
clicks and types like a person, then reads the database."""

import pytest

import annotation_kit as ak
from tests.conftest import make_team
from tests.ui.conftest import app_source, press_across_a_redraw, run_all_cells, shot, write_notebook

XSS = '<img src=x onerror="window.__xss=1">Pick & <b>place</b>'
PANEL_APP = app_source("TaskBoardPanel")


def select_row(page, row, count: int) -> None:
    """Tick a row's box (it waits while the list is busy: rows about to be replaced take no
    tick) and see the selection count it."""
    row.locator("input[type=checkbox]").check()
    page.wait_for_selector(f"[data-testid=selected-count] >> text={count} selected")


@pytest.fixture
def workspace(tmp_path):
    url = f"sqlite:///{tmp_path / 'workspace.db'}"
    team = make_team(url)
    for i in range(27):
        team.task(name=f"batch task {i:02d}", n_datasets=1)
    team.task("in_progress", name=XSS, n_datasets=1)
    for i in range(2):
        team.task("pending_review", name=f"doomed {i}", n_datasets=1)
    yield url, team
    team["ada"].close()


def annotators(team, name):
    [card] = team["ada"].task_queries.list_tasks(search=name).items
    return card.annotators


def test_board_under_panel_serve(workspace, panel_app, page):
    url, team = workspace
    server = panel_app(PANEL_APP, url, "maya")
    page.goto(server.url)
    page.wait_for_selector("[data-testid=task-board]", timeout=30_000)
    assert page.inner_text("[data-testid=status-pending]") == "Pending 27"
    assert page.inner_text("[data-testid=status-pending_review]") == "Pending Review 2"
    # text from users is shown as text, never run
    assert XSS in page.inner_text("[data-testid=column-in_progress]")
    assert page.evaluate("window.__xss") is None
    shot(page, "task_board_panel")

    # filter by clicking a status, then by text
    page.click("[data-testid=status-pending_review]")
    page.wait_for_selector("[data-testid=column-pending]", state="detached")
    assert page.locator("[data-testid^=card-]").count() == 2
    page.click("[data-testid=status-pending_review]")
    page.wait_for_selector("[data-testid=column-pending]")

    # list view: select on page 1 and on page 2, then batch-reassign both
    page.click("[data-testid=view-list]")
    page.wait_for_selector("text=Page 1 of 2 · 30 tasks")
    page.click("[data-testid=sort-name]")
    page.wait_for_selector("[data-testid=sort-name] >> text=Name ▲")
    page.wait_for_selector("[data-testid=task-list][aria-busy=false]")  # the sorted rows are in
    first = page.locator("tbody tr").first
    first_name = first.locator("a").inner_text()
    select_row(page, first, 1)
    page.click("[data-testid=next-page]")
    page.wait_for_selector("text=Page 2 of 2 · 30 tasks")
    page.wait_for_selector("[data-testid=task-list][aria-busy=false]")
    second = page.locator("tbody tr").last
    second_name = second.locator("a").inner_text()
    select_row(page, second, 2)
    page.select_option("[data-testid=reassign-to]", "ann2")
    page.click("[data-testid=reassign]")
    page.wait_for_selector("[data-testid=notice] >> text=reassigned 2 task(s)")
    assert annotators(team, first_name) == ["ann2"]
    assert annotators(team, second_name) == ["ann2"]
    assert annotators(team, "batch task 05") == ["ann"]

    # select everything matching a search across pages, delete with confirmation
    page.fill("[data-testid=search]", "doomed")
    page.wait_for_selector("text=Page 1 of 1 · 2 tasks")
    page.click("[data-testid=select-all]")
    page.wait_for_selector("[data-testid=selected-count] >> text=2 selected")
    page.click("[data-testid=delete]")
    assert team["ada"].task_queries.list_tasks(search="doomed").total == 2
    page.click("[data-testid=confirm-delete]")
    page.wait_for_selector("[data-testid=notice] >> text=deleted 2 task(s)")
    assert team["ada"].task_queries.list_tasks(search="doomed").total == 0
    assert team["ada"].task_queries.list_tasks().total == 28


def test_a_link_held_down_while_news_redraws_the_board_still_opens(workspace, panel_app, page):
    """News redraws the board at any moment (someone else saved): a card's link pressed
    before and released after still opens what it names."""
    url, team = workspace
    server = panel_app(PANEL_APP, url, "maya")
    page.goto(server.url)
    page.wait_for_selector("[data-testid=task-board]", timeout=30_000)
    [task] = team["ada"].task_queries.list_tasks(search="doomed 0").items
    name = task.annotators[0]
    press_across_a_redraw(
        page, f"[data-testid=person-{task.id}-{name}]", "[data-testid=status-pending]"
    )
    page.wait_for_selector(f"[data-testid=person-page] >> text={name}")


def test_annotator_sees_no_manager_actions(workspace, panel_app, page):
    url, _team = workspace
    server = panel_app(PANEL_APP, url, "ann")
    page.goto(server.url)
    page.wait_for_selector("[data-testid=task-board]", timeout=30_000)
    page.click("[data-testid=view-list]")
    page.locator("tbody tr").first.locator("input[type=checkbox]").check()
    page.wait_for_selector("[data-testid=selected-count] >> text=1 selected")
    assert page.locator("[data-testid=delete]").count() == 0
    assert page.locator("[data-testid=reassign]").count() == 0


def test_board_in_jupyterlab(workspace, jupyter_lab, page):
    url, team = workspace
    write_notebook(
        jupyter_lab.root / "board.ipynb",
        [
            "import annotation_kit as ak\nfrom annotation_kit.widgets import TaskBoard",
            f"board = TaskBoard(ak.connect({url!r}, user='maya'))\nboard",
        ],
    )
    page.goto(jupyter_lab.notebook_url("board.ipynb"))
    run_all_cells(page, 2)
    page.wait_for_selector("[data-testid=task-board]", timeout=60_000)
    assert page.inner_text("[data-testid=status-pending]") == "Pending 27"
    assert page.evaluate("window.__xss") is None
    page.click("[data-testid=status-in_progress]")
    page.wait_for_selector("[data-testid=column-pending]", state="detached")
    card = page.locator("[data-testid^=card-]").first
    card.locator("input[type=checkbox]").check()
    page.wait_for_selector("[data-testid=selected-count] >> text=1 selected")
    page.select_option("[data-testid=reassign-to]", "ann2")
    page.click("[data-testid=reassign]")
    page.wait_for_selector("[data-testid=notice] >> text=reassigned 1 task(s)")
    assert annotators(team, "Pick &") == ["ann2"]
    shot(page, "task_board_jupyterlab")


def test_forged_request_is_refused_by_the_library(workspace):
    url, team = workspace
    from annotation_kit.widgets import TaskBoard

    board = TaskBoard(ak.connect(url, user="ann"))
    ids = team["ada"].task_queries.matching_ids()
    board._request = {"id": 1, "action": "delete", "ids": ids, "confirm": True}
    assert "may not delete tasks" in board._error
    assert team["ada"].task_queries.list_tasks().total == 30
