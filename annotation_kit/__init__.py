"""annotation_kit: annotate robot episodes in Jupyter, review them, export training data."""

from . import _moved
from .access.workflow import Action, Role, Status
from .errors import (
    AnnotationKitError,
    Busy,
    ConflictError,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    ValidationError,
)
from .workspace import Workspace, connect

_moved.install()  # old import paths (annotation_kit.tasks...) still work, with a warning

__version__ = "0.1.0"

__all__ = [
    "Action",
    "AnnotationKitError",
    "Busy",
    "ConflictError",
    "InvalidTransition",
    "NotFound",
    "PermissionDenied",
    "Role",
    "Status",
    "ValidationError",
    "Workspace",
    "__version__",
    "connect",
]
