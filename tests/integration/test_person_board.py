"""A person's board and lists are read from the members' index (migration 0016): the same
counts, cards and pages as the general query over ``tasks``, on SQLite and PostgreSQL, and the
copied status follows the task whoever changes it (the ORM, a bulk statement, plain SQL)."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text, update

from annotation_kit.access import projects
from annotation_kit.access.workflow import Status
from annotation_kit.store.models import Dataset, Task, TaskMember
from annotation_kit.work import task_queries


@pytest.fixture
def tasks(team):
    """Tasks of every status: ann annotates most, reviews some of them too (on one she both
    annotates and reviews), rita reviews; one of ann2's lies in a project ann is a member of."""
    maya = team["maya"]
    made = []
    for i, status in enumerate(list(Status) * 3):
        task = team.task(status, n_datasets=1, name=f"t{i}")
        made.append(task.id)
        if i % 4 == 0:
            maya.tasks.assign(task.id, reviewers=["rita", "ann"])
        if i % 5 == 0:
            maya.tasks.assign(task.id, annotators=["ann", "ann2"])
    d = team.new_datasets_now(1)
    maya.projects.create("kitchen", members=["rita2"])
    with maya.transaction() as s:
        s.get(Dataset, d[0]).project_id = projects.get(s, "kitchen").id
    maya.tasks.create("kitchen", datasets=d, annotators=["ann2"], project="kitchen")
    return made


def _both_ways(monkeypatch, read, **filters):
    """``read(**filters)`` through the members' index, and through the general query."""
    fast = read(**filters)
    with monkeypatch.context() as m:
        m.setattr(task_queries, "_person", lambda *_a, **_k: None)
        general = read(**filters)
    return fast, general


def _board(board):
    return board.counts, {s: [c.id for c in cards] for s, cards in board.columns.items()}


def _page(page):
    return page.total, [c.id for c in page.items]


@pytest.mark.parametrize(
    ("who", "assignee"),
    [("ann", None), ("ann", "ann"), ("rita", None), ("maya", "ann"), ("maya", "nobody")],
)
def test_a_persons_board_is_the_general_querys(team, tasks, monkeypatch, who, assignee):
    ws = team[who]
    for sort in ("-created_at", "created_at", "name"):
        fast, general = _both_ways(
            monkeypatch,
            lambda **f: _board(ws.task_queries.board(per_status=2, **f)),
            assignee=assignee,
            sort=sort,
        )
        assert fast == general
    assert sum(fast[0].values()) == {"ann": 15, "rita": 15, "nobody": 0}[assignee or who]


@pytest.mark.parametrize(("who", "assignee"), [("ann", None), ("maya", "ann"), ("rita", "rita")])
def test_a_persons_pages_are_the_general_querys(team, tasks, monkeypatch, who, assignee):
    ws = team[who]
    for status in (None, "in_progress", ["pending", "pending_review"]):
        for sort in ("-created_at", "created_at", "-updated_at"):
            for page in (1, 2, 4):
                fast, general = _both_ways(
                    monkeypatch,
                    lambda **f: _page(ws.task_queries.list_tasks(page_size=4, **f)),
                    assignee=assignee,
                    status=status,
                    sort=sort,
                    page=page,
                )
                assert fast == general, (status, sort, page)


def test_a_member_of_a_project_sees_its_tasks_on_the_board(team, tasks):
    """rita2 is on no task: the project's task is on her board (the general query)."""
    board = team["rita2"].task_queries.board(per_status=5)
    assert [c.name for c in board.columns[Status.PENDING]] == ["kitchen"]


def test_the_copied_status_follows_every_kind_of_change(team, tasks):
    maya = team["maya"]
    first = tasks[0]

    def copied():
        with maya.transaction(write=False) as s:
            rows = s.execute(select(TaskMember.status).where(TaskMember.task_id == first))
            return {Status(r) for (r,) in rows}

    assert copied() == {Status.PENDING}
    with maya.transaction() as s:  # a bulk statement
        s.execute(update(Task).where(Task.id == first).values(status=Status.IN_PROGRESS))
    assert copied() == {Status.IN_PROGRESS}
    with maya.transaction() as s:  # plain SQL
        s.execute(text("UPDATE tasks SET status = 'pending_review' WHERE id = :i"), {"i": first})
    assert copied() == {Status.PENDING_REVIEW}
    maya.tasks.assign(first, annotators=["ann", "ann2", "rita"])  # a member added later
    assert copied() == {Status.PENDING_REVIEW}
    with maya.transaction(write=False) as s:
        dates = s.execute(
            select(TaskMember.created_at, Task.created_at).join(Task).where(Task.id == first)
        ).all()
    assert {a for a, _ in dates} == {b for _, b in dates}


def test_whose_tasks_the_filters_select(team, tasks):
    """The index is read only where the filters select exactly one person's own tasks."""

    def person(who, **filters):
        ws = team[who]
        with ws.transaction(write=False) as s:
            return task_queries._person(s, ws.me(s), **filters)

    with team["ada"].transaction(write=False) as s:
        ids = dict(s.execute(text("SELECT name, id FROM users")).all())
    assert person("ann") == person("ann", assignee="ann") == ids["ann"]
    assert person("maya", assignee="rita") == ids["rita"]
    assert person("maya", assignee="nobody") == 0
    assert person("maya") is None  # every task
    assert person("rita2") is None  # a project's tasks too
    assert person("ann", search="t1") is None
    assert person("ann", assignee="rita") is None  # someone else's tasks, as far as ann sees
