"""Writes sent with their own id, applied once each.

A page gives every write a client-made id and sends it again until it is answered — after a
reconnect, a reload, or a long wait. While a request with such an id runs (:func:`applying`),
each write transaction of the workspace records the id in ``applied_writes`` *in the same
transaction* (:func:`record`); a copy of the id arriving again finds it there and raises
:class:`AlreadyApplied` before anything is written. So a write is done once even when its
copies reach two server processes, or the same one before and after a restart.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..errors import AnnotationKitError, ValidationError
from .models import AppliedWrite, utcnow

KEPT = timedelta(days=30)
"""How long an applied id is remembered: far longer than any page waits to send again."""
_ID = re.compile(r"[A-Za-z0-9_.:-]{8,80}")


class AlreadyApplied(AnnotationKitError):
    """This write's id was applied before: the copy that arrived now changes nothing."""


@dataclass
class _Request:
    id: str
    transactions: int = 0


_CURRENT: ContextVar[_Request | None] = ContextVar("annotation_kit_write", default=None)


def is_write_id(value: object) -> bool:
    """Whether ``value`` is a client-made write id (8–80 letters, digits, ``_.:-``)."""
    return isinstance(value, str) and _ID.fullmatch(value) is not None


@contextmanager
def applying(write_id: str) -> Iterator[None]:
    """Run the block as the write ``write_id``: its write transactions are applied once."""
    if not is_write_id(write_id):
        raise ValidationError(f"bad request: {write_id!r} is not a write id")
    token = _CURRENT.set(_Request(write_id))
    try:
        yield
    finally:
        _CURRENT.reset(token)


def record(session: Session) -> None:
    """In a write transaction: note the current write's id (the n-th transaction of one
    request is ``id#n``), or raise :class:`AlreadyApplied` when it is there already."""
    current = _CURRENT.get()
    if current is None:
        return
    key = current.id if not current.transactions else f"{current.id}#{current.transactions}"
    current.transactions += 1
    if session.get(AppliedWrite, key) is not None:
        raise AlreadyApplied(f"write {key} was applied before; nothing was done again")
    try:
        with session.begin_nested():  # a copy committed a moment ago by another process
            session.add(AppliedWrite(id=key))
            session.flush()
    except IntegrityError as exc:
        raise AlreadyApplied(f"write {key} was applied before; nothing was done again") from exc
    if random.random() < 0.001:  # now and then, forget the ids nobody will send again
        session.execute(delete(AppliedWrite).where(AppliedWrite.at < utcnow() - KEPT))
