"""Job and export states, declared as data: every state is reached, every action's refusal
names the state it found."""

import pytest

from annotation_kit.errors import InvalidTransition
from annotation_kit.store.models import ExportStatus, JobState
from annotation_kit.store.states import EXPORTS, FINISHED, JOBS


def test_every_job_state_is_reached_and_left_as_declared():
    reached = {m.target for m in JOBS.moves.values()} - {""}
    left = {s for m in JOBS.moves.values() for s in m.sources}
    assert reached | {JobState.WAITING, JobState.DELAYED} == set(JobState)
    assert left == set(JobState)  # nothing is stuck: even finished jobs are retried or cleaned
    assert set(FINISHED) == {JobState.COMPLETED, JobState.FAILED, JobState.CANCELLED}
    assert JOBS.move(JobState.FAILED, "retry", name="job #1") == JobState.WAITING
    assert JOBS.move(JobState.DELAYED, "cancel", name="job #1") == JobState.CANCELLED


@pytest.mark.parametrize(
    ("state", "action"),
    [
        (JobState.RUNNING, "retry"),
        (JobState.COMPLETED, "retry"),
        (JobState.COMPLETED, "cancel"),
        (JobState.FAILED, "claim"),
    ],
)
def test_an_action_that_does_not_apply_names_the_state(state, action):
    with pytest.raises(InvalidTransition, match=rf"job #7 is {state.value}: {action} applies to"):
        JOBS.move(state, action, name="job #7")


def test_an_export_ends_once():
    assert EXPORTS.move(ExportStatus.RUNNING, "complete", name="export #2") == "completed"
    with pytest.raises(InvalidTransition, match="export #2 is completed: fail applies to running"):
        EXPORTS.move(ExportStatus.COMPLETED, "fail", name="export #2")
