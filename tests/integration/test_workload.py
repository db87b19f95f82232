"""Workload before assignment, on SQLite and PostgreSQL: each candidate's open tasks, episodes
and hours still to do and recent pace match what was built; a balance proposal evens the hours
out; only managers and admins read them, and nothing is written."""

import pytest

from annotation_kit.errors import NotFound, PermissionDenied, ValidationError
from tests.conftest import SECOND


def test_load_and_a_balanced_proposal(team):
    maya, ann = team["maya"], team["ann"]
    episodes = team.new_datasets_now(2)  # one minute each
    task = maya.tasks.create("open", datasets=episodes, annotators=["ann"]).id
    ann.tasks.start(task)
    ann.annotations.add(task, episodes[0])  # one done today, one still to do
    ann_load, ann2_load = maya.workload.load(["ann", "ann2"])
    assert (ann_load.name, ann_load.open_tasks, ann_load.episodes_to_do) == ("ann", 1, 1)
    assert ann_load.hours_to_do == pytest.approx(1 / 60)
    assert ann_load.pace_per_day == pytest.approx(1 / 7) and ann_load.days_to_do == 7
    assert (ann2_load.open_tasks, ann2_load.episodes_to_do, ann2_load.days_to_do) == (0, 0, None)

    d1, d2, d3 = team.new_datasets_now(3)
    before = maya.task_queries.list_tasks().total
    # ann2 has nothing: she gets the first; then both have a minute, ann (fewer given) the
    # second; then ann2 again
    assert maya.workload.balance([d1, d2, d3], ["ann", "ann2"]) == {"ann": [d2], "ann2": [d1, d3]}
    assert maya.task_queries.list_tasks().total == before  # a proposal writes nothing
    with pytest.raises(PermissionDenied):
        ann.workload.load(["ann"])
    with pytest.raises(NotFound, match="nobody"):
        maya.workload.balance([d1], ["nobody"])
    with pytest.raises(ValidationError, match="at least one annotator"):
        maya.workload.balance([d1], [])
    with pytest.raises(ValidationError, match="cannot annotate"):
        maya.workload.balance([d1], ["rita"])


def test_a_persons_page_shows_their_tasks_load_and_recent_activity(team):
    maya, ann, rita = team["maya"], team["ann"], team["rita"]
    [episode, other] = team.new_datasets_now(2)
    mine = maya.tasks.create("hers", datasets=[episode], annotators=["ann"], reviewers=["rita"])
    maya.tasks.create("not hers", datasets=[other], annotators=["ann2"])
    ann.tasks.start(mine.id)
    ann.annotations.add(mine.id, episode, start_ns=0, end_ns=SECOND)
    page = maya.workload.person("ann")
    assert (page.name, page.role, page.active) == ("ann", "annotator", True)
    assert [t.name for t in page.tasks] == ["hers"]
    assert (page.load.open_tasks, page.load.episodes_to_do) == (1, 0)
    assert [a.action for a in page.activity][:2] == ["create", "start"]
    assert page.activity[1].change == "pending → in_progress"
    assert ann.workload.person("ann").tasks[0].name == "hers"  # one's own page
    with pytest.raises(PermissionDenied, match="another person's page"):
        ann.workload.person("rita")
    assert [t.name for t in rita.workload.person("rita").tasks] == ["hers"]
    with pytest.raises(NotFound):
        maya.workload.person("nobody")
