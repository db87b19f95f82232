"""Fixtures shared by the export tests."""

import pytest

from annotation_kit import synthetic

SECOND = 1_000_000_000
XSS = 'grab the <b>cup</b> "slowly"; then, lift'


@pytest.fixture
def passed(team, tmp_path):
    """A task that passed review: two generated MCAP episodes, three segments and a verdict."""
    maya = team["maya"]
    maya.skills.create("pick")
    maya.skills.create("place")
    maya.dictionaries.create("objects", ["cup", "bowl"])
    files = [
        synthetic.write_mcap(tmp_path / f"src/ep{i}.mcap", duration_s=4, seed=i, cameras=("wrist",))
        for i in range(2)
    ]
    ids = maya.import_datasets(files, progress=False).dataset_ids
    task = maya.tasks.create("export me", datasets=ids, annotators=["ann"], reviewers=["rita"])
    ann = team["ann"]
    ann.tasks.start(task.id)
    made = [
        ann.annotations.add(
            task.id,
            ids[0],
            start_ns=SECOND // 2,
            end_ns=2 * SECOND,
            skill="pick",
            labels=["cup"],
            description=XSS,
        ),
        ann.annotations.add(
            task.id, ids[0], start_ns=2 * SECOND, end_ns=3 * SECOND + 7, skill="place"
        ),
        ann.annotations.add(task.id, ids[1], start_ns=123, end_ns=SECOND + 456, skill="pick"),
    ]
    ann.tasks.submit(task.id)
    team["rita"].reviews.judge(made[0].id, "pass")
    team["rita"].tasks.approve(task.id)
    return team, task.id, ids, made, tmp_path
