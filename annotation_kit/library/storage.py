"""Storage connections: named places recordings live (S3 and S3-compatible servers such as
MinIO, Google Cloud Storage, a local root), so imports, exports and the data browser say
``storage://NAME/some/folder`` instead of a raw URL.

Only non-secret options are kept in the database (bucket, prefix, endpoint, region, root).
Secrets never are: they come from the environment —
``ANNOTATION_KIT_STORAGE_<NAME>_KEY`` / ``_SECRET`` (S3), ``_TOKEN`` (GCS: a service-account file)
— or from a TOML secrets file outside the database named by ``$ANNOTATION_KIT_SECRETS``::

    [storage.lab]
    key = "..."
    secret = "..."

and otherwise from the storage's own default chain (``AWS_*`` variables, ``~/.aws``...).
A connection's options are refused when they hold a secret (a key, a password, a URL with
credentials), so nothing secret reaches the database, the audit log, the job ledger or an
export record. ``annotation-kit storage test NAME`` checks access.

Admins create and remove connections; those who may import data (collectors, managers,
admins) list and browse them.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..access import events
from ..access.workflow import Role, require_role
from ..errors import NotFound, ValidationError
from ..store import locations
from ..store.database import readonly
from ..store.locations import holds_credentials, scrub
from ..store.models import StorageConnection, User

__all__ = ["Entry", "browse", "create", "get", "list_connections", "remove", "test"]

SCHEME = "storage://"
SECRETS_ENV = "ANNOTATION_KIT_SECRETS"
KINDS: dict[str, dict[str, bool]] = {
    # option -> required
    "s3": {"bucket": True, "prefix": False, "endpoint_url": False, "region": False},
    "gcs": {"bucket": True, "prefix": False, "project": False},
    "local": {"root": True},
}
SECRET_NAMES = {"s3": ("key", "secret"), "gcs": ("token",), "local": ()}
_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")
_SECRETISH = re.compile(r"key|secret|password|passwd|token|credential", re.IGNORECASE)


def _check(kind: str, options: dict[str, Any]) -> dict[str, str]:
    if kind not in KINDS:
        raise ValidationError(f"storage kind {kind!r}; kinds: {', '.join(KINDS)}")
    if not isinstance(options, dict):
        raise ValidationError("storage options must be a mapping like {'bucket': 'episodes'}")
    allowed = KINDS[kind]
    for key, value in options.items():
        if _SECRETISH.search(str(key)):
            raise ValidationError(
                f"storage option {key!r} looks like a secret: secrets are never stored; set "
                f"ANNOTATION_KIT_STORAGE_<NAME>_{str(key).upper()} or the secrets file instead"
            )
        if key not in allowed:
            raise ValidationError(f"{kind} storage takes {', '.join(allowed)}; not {key!r}")
        if not isinstance(value, str) or holds_credentials(value) or "\x00" in value:
            raise ValidationError(f"storage option {key} must be text without credentials in it")
    if missing := [k for k, required in allowed.items() if required and not options.get(k)]:
        raise ValidationError(f"{kind} storage needs {', '.join(missing)}")
    if kind == "local":
        root = Path(options["root"]).expanduser()
        if not root.is_absolute():
            raise ValidationError(f"a local root must be an absolute folder, not {str(root)!r}")
    return {k: str(v) for k, v in options.items() if v}


def create(
    session: Session, name: str, kind: str, options: dict[str, Any], *, by: User
) -> StorageConnection:
    """Name a place recordings live (admins); ``options`` hold no secret (see the module)."""
    require_role(by, {Role.ADMIN}, "create storage connections")
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValidationError(
            f"a storage connection's name is lower-case letters, digits, '-' or '_' (starting "
            f"with a letter, at most 64), not {name!r}"
        )
    checked = _check(kind, options)
    if session.scalar(select(StorageConnection.id).where(StorageConnection.name == name)):
        raise ValidationError(f"a storage connection named {name!r} already exists")
    found = StorageConnection(name=name, kind=kind, options=checked)
    session.add(found)
    session.flush()
    events.record(
        session, by=by, object_type="storage", object_id=found.id, action="create", note=name
    )
    register(found)
    return found


def remove(session: Session, name: str, *, by: User) -> None:
    """Forget a connection (admins). Datasets imported through it keep their
    ``storage://`` URLs and are read again once a connection of that name exists."""
    require_role(by, {Role.ADMIN}, "remove storage connections")
    found = get(session, name)
    session.delete(found)
    events.record(
        session, by=by, object_type="storage", object_id=found.id, action="remove", note=name
    )
    _CONNECTIONS.pop(name, None)
    _forget()


def _may_read(by: User) -> None:
    require_role(by, {Role.ADMIN, Role.MANAGER, Role.COLLECTOR}, "use storage connections")


@readonly
def get(session: Session, name: str) -> StorageConnection:
    """One connection by name, or :class:`NotFound` naming the known ones."""
    found = session.scalar(select(StorageConnection).where(StorageConnection.name == name))
    if found is None:
        known = session.scalars(select(StorageConnection.name).order_by(StorageConnection.name))
        raise NotFound(f"no storage connection {name!r}; known: {', '.join(known) or 'none'}")
    return found


@readonly
def list_connections(session: Session, *, by: User) -> Sequence[StorageConnection]:
    """The connections, by name (collectors, managers and admins)."""
    _may_read(by)
    return session.scalars(select(StorageConnection).order_by(StorageConnection.name)).all()


@dataclass(frozen=True)
class Entry:
    """One file or folder of a connection."""

    url: str
    """``storage://NAME/path``: what an import takes."""
    name: str
    folder: bool
    size: int


@readonly
def browse(session: Session, name: str, path: str = "", *, by: User) -> list[Entry]:
    """What is in a connection's folder ``path`` (folders first, then files, by name)."""
    _may_read(by)
    get(session, name)  # a clear NotFound first
    folder = locations.locate(url(name, path))
    if not folder.isdir():
        raise NotFound(f"{url(name, path)} is not a folder")
    found = []
    for item in folder.fs.ls(folder.path, detail=True):
        relative = str(item["name"]).rstrip("/").rsplit("/", 1)[-1]
        is_dir = item.get("type") == "directory"
        where = url(name, f"{path.strip('/')}/{relative}".strip("/"))
        found.append(Entry(where, relative, is_dir, int(item.get("size") or 0)))
    return sorted(found, key=lambda e: (not e.folder, e.name))


def test(session: Session, name: str, *, by: User) -> str:
    """Check a connection: list its root; returns what was found, or raises naming why not
    (the secret's value never appears)."""
    _may_read(by)
    found = get(session, name)
    try:
        entries = browse(session, name, "", by=by)
    except NotFound:
        raise
    except Exception as exc:
        raise ValidationError(
            f"storage {name!r} ({found.kind}) cannot be listed: {type(exc).__name__}: "
            f"{_hide(scrub(str(exc)), name)}"
        ) from None
    return f"storage {name!r} ({found.kind}) answers: {len(entries)} entries at its root"


def url(name: str, path: str = "") -> str:
    """The URL of ``path`` in connection ``name``."""
    return f"{SCHEME}{name}/{path.strip('/')}".rstrip("/")


# ----- secrets and filesystems (never stored) --------------------------------------------


def _secrets(name: str, kind: str) -> dict[str, str]:
    """The connection's secrets: the environment first, then the secrets file."""
    out: dict[str, str] = {}
    from_file: dict[str, Any] = {}
    if path := os.environ.get(SECRETS_ENV):
        try:
            with open(path, "rb") as f:
                from_file = tomllib.load(f).get("storage", {}).get(name, {})
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ValidationError(
                f"the secrets file in ${SECRETS_ENV} cannot be read: {type(exc).__name__}"
            ) from None
    for secret in SECRET_NAMES[kind]:
        env = f"ANNOTATION_KIT_STORAGE_{name.upper().replace('-', '_')}_{secret.upper()}"
        value = os.environ.get(env) or from_file.get(secret)
        if value:
            out[secret] = str(value)
    return out


def _hide(text: str, name: str) -> str:
    """``text`` with the connection's secrets' values taken out (error messages)."""
    connection = _CONNECTIONS.get(name)
    if connection is None:
        return text
    for value in _secrets(name, connection[0]).values():
        text = text.replace(value, "***")
    return text


_CONNECTIONS: dict[str, tuple[str, dict[str, str]]] = {}
"""This process's connections by name (kind, options), read from the workspace database."""


def register(found: StorageConnection) -> None:
    """Make ``storage://NAME/...`` resolvable in this process."""
    _CONNECTIONS[found.name] = (found.kind, dict(found.options))
    _forget()


def _look_up(name: str) -> tuple[str, dict[str, str]] | None:
    """Connection ``name`` from the databases this process opened (newest first)."""
    from ..store.database import OPENED

    for ref in reversed(OPENED):
        db = ref()
        if db is None:
            continue
        with db.transaction(write=False) as session:
            row = session.execute(
                select(StorageConnection.kind, StorageConnection.options).where(
                    StorageConnection.name == name
                )
            ).first()
        if row is not None:
            _CONNECTIONS[name] = (row[0], dict(row[1]))
            return _CONNECTIONS[name]
    return None


def _forget() -> None:
    locations._locate.cache_clear()


def filesystem(name: str) -> tuple[Any, str]:
    """The fsspec filesystem of connection ``name`` and the path of its root there."""
    found = _CONNECTIONS.get(name) or _look_up(name)
    if found is None:
        raise NotFound(
            f"no storage connection {name!r} in this workspace; known: "
            f"{', '.join(sorted(_CONNECTIONS)) or 'none'}"
        )
    kind, options = found
    import fsspec

    secrets = _secrets(name, kind)
    if kind == "local":
        return fsspec.filesystem("file"), str(Path(options["root"]).expanduser())
    root = f"{options['bucket']}/{options.get('prefix', '').strip('/')}".rstrip("/")
    if kind == "s3":
        client: dict[str, Any] = {}
        if options.get("endpoint_url"):
            client["endpoint_url"] = options["endpoint_url"]
        if options.get("region"):
            client["region_name"] = options["region"]
        return fsspec.filesystem("s3", client_kwargs=client, **secrets), root
    kwargs = {"project": options["project"]} if options.get("project") else {}
    return fsspec.filesystem("gcs", **kwargs, **secrets), root


locations.CONNECTIONS = filesystem
