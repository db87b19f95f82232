"""The errors annotation_kit raises. Each message names what was tried and why it was refused."""

from __future__ import annotations


class AnnotationKitError(Exception):
    """Base class of every error raised on purpose by annotation_kit."""


class NotFound(AnnotationKitError, LookupError):
    """A user, task, dataset or other object named by the caller does not exist."""


class ValidationError(AnnotationKitError, ValueError):
    """Input that cannot be stored: empty or over-long text, unknown role, bad time range..."""


class PermissionDenied(AnnotationKitError):
    """The acting user's role or assignment does not allow the action."""


class InvalidTransition(AnnotationKitError):
    """The action does not exist from the task's current status."""


class ConflictError(AnnotationKitError):
    """Someone else saved a newer version of the object; nothing was overwritten."""

    def __init__(
        self, message: str, *, expected: int | None = None, actual: int | None = None
    ) -> None:
        super().__init__(message)
        self.expected = expected
        self.actual = actual


class Busy(AnnotationKitError):
    """The workspace's database stayed locked by other writers for longer than the wait allows;
    nothing was written. Try again."""


class MissingExtra(AnnotationKitError, ImportError):
    """A part of annotation_kit needs packages of an extra that is not installed; the message
    names the extra and the command that installs it."""


class EmptyResult(UserWarning):
    """A question whose answer is empty for a reason worth telling (a report with nothing to
    compare yet): the warning says why, the empty answer is still returned."""
