"""Writes sent with their own id are applied once, on SQLite and PostgreSQL: a copy of the id
(a page re-sending after a reconnect, two server processes receiving copies at once) changes
nothing; ids that are not write ids are refused; each transaction of one request counts."""

from concurrent.futures import ThreadPoolExecutor

import pytest

from annotation_kit.errors import ValidationError
from annotation_kit.store import writes

SECOND = 1_000_000_000


@pytest.fixture
def work(team):
    team["maya"].skills.create("pick")
    task = team.task("in_progress", n_datasets=1)
    return team, task.id, team["ada"].tasks.task_dataset_ids(task.id)[0]


def _count(team, task):
    return len(team["ada"].annotations.list_annotations(task))


def test_a_write_id_sent_twice_is_applied_once(work):
    team, task, dataset = work
    ann = team["ann"]
    with writes.applying("w-0123456789abcdef"):
        ann.annotations.add(task, dataset, start_ns=0, end_ns=SECOND, skill="pick")
    with pytest.raises(writes.AlreadyApplied), writes.applying("w-0123456789abcdef"):
        ann.annotations.add(task, dataset, start_ns=0, end_ns=SECOND, skill="pick")
    assert _count(team, task) == 1
    # another id is another write; no id at all is today's plain call
    with writes.applying("w-fedcba9876543210"):
        ann.annotations.add(task, dataset, start_ns=SECOND, end_ns=2 * SECOND, skill="pick")
    ann.annotations.add(task, dataset, start_ns=SECOND, end_ns=2 * SECOND, skill="pick")
    assert _count(team, task) == 3


def test_a_refused_write_leaves_its_id_free(work):
    team, task, dataset = work
    ann = team["ann"]
    with pytest.raises(ValidationError), writes.applying("w-refused-0001"):
        ann.annotations.add(task, dataset, start_ns=2 * SECOND, end_ns=SECOND, skill="pick")
    with writes.applying("w-refused-0001"):  # corrected and sent again: applied
        ann.annotations.add(task, dataset, start_ns=SECOND, end_ns=2 * SECOND, skill="pick")
    assert _count(team, task) == 1


def test_each_transaction_of_one_request_counts_and_reads_are_free(work):
    team, task, dataset = work
    ann = team["ann"]
    with writes.applying("w-two-parts-01"):
        ann.annotations.list_annotations(task)  # a read: no id used
        ann.annotations.add(task, dataset, start_ns=0, end_ns=SECOND, skill="pick")
        ann.annotations.add(task, dataset, start_ns=SECOND, end_ns=2 * SECOND, skill="pick")
    with pytest.raises(writes.AlreadyApplied), writes.applying("w-two-parts-01"):
        ann.annotations.add(task, dataset, start_ns=0, end_ns=SECOND, skill="pick")
    assert _count(team, task) == 2


@pytest.mark.parametrize("bad", ["", "short", "w-" + "x" * 100, "w-éé-0123456", 12345678])
def test_what_is_not_a_write_id_is_refused(bad):
    with pytest.raises(ValidationError, match="not a write id"), writes.applying(bad):  # type: ignore[arg-type]
        pass


def test_copies_arriving_at_once_are_applied_once(work):
    team, task, dataset = work
    ann = team["ann"]

    def send(_copy: int) -> str:
        try:
            with writes.applying("w-copies-at-once"):
                ann.annotations.add(task, dataset, start_ns=0, end_ns=SECOND, skill="pick")
        except writes.AlreadyApplied:
            return "already"
        return "applied"

    with ThreadPoolExecutor(6) as pool:
        answers = sorted(pool.map(send, range(6)))
    assert answers == ["already"] * 5 + ["applied"]
    assert _count(team, task) == 1
