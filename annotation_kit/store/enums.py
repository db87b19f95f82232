"""The words the tables are typed by: roles, task statuses, workflow actions, duties. Who may
do what with them is :mod:`annotation_kit.access.workflow`'s to decide."""

from enum import StrEnum


class Role(StrEnum):
    """A user's global role."""

    ADMIN = "admin"
    MANAGER = "manager"
    ANNOTATOR = "annotator"
    REVIEWER = "reviewer"
    COLLECTOR = "collector"
    VISITOR = "visitor"


class Status(StrEnum):
    """Where a task stands."""

    PENDING = "pending"
    IN_PROGRESS = "in_progress"
    PENDING_REVIEW = "pending_review"
    REVIEW_PASSED = "review_passed"
    DATA_SUBMITTED = "data_submitted"

    @property
    def label(self) -> str:
        """Human name, e.g. ``Pending Review``."""
        return self.value.replace("_", " ").title()


class Action(StrEnum):
    """What a user can do to a task's status."""

    START = "start"
    SUBMIT = "submit"
    APPROVE = "approve"
    REJECT = "reject"
    SUBMIT_DATA = "submit_data"


class Duty(StrEnum):
    """A user's assignment on one task."""

    ANNOTATOR = "annotator"
    REVIEWER = "reviewer"
