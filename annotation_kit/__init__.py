"""annotation_kit: annotate robot episodes in Jupyter, review them, export training data."""

from .errors import (
    AnnotationKitError,
    Busy,
    ConflictError,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    ValidationError,
)
from .workflow import Action, Role, Status
from .workspace import Workspace, connect

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
