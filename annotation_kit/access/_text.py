"""Checks for text users type. Text is stored verbatim (never stripped, escaped or interpreted);
only its presence and length are checked, with an error that names the field."""

from __future__ import annotations

from ..errors import ValidationError
from ..store.models import NAME_MAX, TEXT_MAX


def name(value: object, field: str = "name") -> str:
    """A required one-line name: a non-blank string of at most ``NAME_MAX`` characters."""
    if not isinstance(value, str):
        raise ValidationError(f"{field} must be text, got {type(value).__name__}")
    if not value.strip():
        raise ValidationError(f"{field} must not be empty")
    if len(value) > NAME_MAX:
        raise ValidationError(f"{field} is {len(value)} characters long; the limit is {NAME_MAX}")
    if "\x00" in value:
        raise ValidationError(f"{field} contains a NUL character")
    return value


def optional_name(value: object, field: str) -> str:
    """An optional one-line name: empty, or a name as :func:`name` checks it."""
    if value is None or value == "":
        return ""
    return name(value, field)


def at_least(value: object, field: str, minimum: int = 0) -> int:
    """A count or limit given by the caller: an integer no smaller than ``minimum``."""
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise ValidationError(f"{field} must be an integer of at least {minimum}, got {value!r}")
    return value


def text(value: object, field: str, *, required: bool = False) -> str:
    """Free text (descriptions, comments) of at most ``TEXT_MAX`` characters."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValidationError(f"{field} must be text, got {type(value).__name__}")
    if required and not value.strip():
        raise ValidationError(f"{field} must not be empty")
    if len(value) > TEXT_MAX:
        raise ValidationError(f"{field} is {len(value)} characters long; the limit is {TEXT_MAX}")
    if "\x00" in value:
        raise ValidationError(f"{field} contains a NUL character")
    return value
