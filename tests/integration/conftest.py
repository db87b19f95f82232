"""Fixtures shared by the integration tests: a passed task for exports, three episodes in a
task for the widget controllers, a queue beside the workspace."""

import uuid

import pytest
import redis

from annotation_kit.data import synthetic

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


@pytest.fixture
def work(team, tmp_path):
    """Three generated episodes (two cameras, signals), two in a task for ann and rita."""
    maya = team["maya"]
    maya.skills.create("pick")
    maya.skills.create("place")
    maya.dictionaries.create("objects", ["cup", "bowl"])
    files = [synthetic.write_mcap(tmp_path / f"ep{i}.mcap", duration_s=4, seed=i) for i in range(3)]
    ids = maya.import_datasets(files, progress=False).dataset_ids
    task = maya.tasks.create(
        "controllers", datasets=ids[:2], annotators=["ann"], reviewers=["rita"]
    )
    return team, task.id, ids


@pytest.fixture
def queue_url(team, tmp_path, monkeypatch):
    """SQLite workspace: the SQLite queue file; PostgreSQL workspace: a Redis database."""
    if team["ada"].db.dialect == "sqlite":
        url = f"sqlite:///{tmp_path / 'queue.db'}"
    else:
        url = f"redis://127.0.0.1:6379/{1 + uuid.uuid4().int % 14}"
        redis.Redis.from_url(url).flushdb()
    monkeypatch.setenv("ANNOTATION_KIT_QUEUE", url)
    yield url
    if url.startswith("redis"):
        redis.Redis.from_url(url).flushdb()
