"""Where episode files live: local disk or object storage (S3, MinIO...) through fsspec.

Credentials and endpoints come from the environment or the usual config files (for S3:
``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``, ``AWS_ENDPOINT_URL``...); they are never
stored in the workspace database, which only keeps the URL. ``storage://NAME/path`` names a
path in a storage connection an admin set up (:mod:`annotation_kit.library.storage`).
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from urllib.parse import unquote

import fsspec
from fsspec.implementations.local import LocalFileSystem

from ..errors import ValidationError


@dataclass(frozen=True)
class Location:
    """A file or folder: the filesystem that holds it, its path there, and a URL naming it."""

    fs: Any
    path: str
    url: str

    def child(self, relative: str) -> Location:
        """The location ``relative`` below this one."""
        path = f"{self.path.rstrip('/')}/{relative}"
        return Location(self.fs, path, f"{self.url.rstrip('/')}/{relative}")

    def open(self, mode: str = "rb") -> IO[bytes]:
        """Open the file (binary)."""
        if self.is_local:  # plain file objects: fsspec's local wrapper costs per read
            return open(self.path, mode)
        return self.fs.open(self.path, mode)

    def exists(self) -> bool:
        """Whether something is there."""
        if self.is_local:  # one stat, not fsspec's info() per question
            return os.path.exists(self.path)
        return self.fs.exists(self.path)

    def isdir(self) -> bool:
        """Whether it is a folder."""
        if self.is_local:
            return os.path.isdir(self.path)
        return self.fs.isdir(self.path)

    def size(self) -> int:
        """Size in bytes."""
        if self.is_local:
            return os.path.getsize(self.path)
        return int(self.fs.size(self.path) or 0)

    @property
    def name(self) -> str:
        """The last part of the path."""
        return self.path.rstrip("/").rsplit("/", 1)[-1]

    @property
    def is_local(self) -> bool:
        """Whether it is on the local file system."""
        return isinstance(self.fs, LocalFileSystem)


PATH_MAX = 4096
"""The longest path or URL taken (Linux's own limit for a path)."""


def locate(source: str | Path) -> Location:
    """A :class:`Location` for a local path, a ``file://`` URL or any fsspec URL; a
    :class:`ValidationError` for anything else (not text, a NUL, over :data:`PATH_MAX`)."""
    if not isinstance(source, str | Path):
        raise ValidationError(f"a path or URL is text, not {type(source).__name__}")
    text = str(source)
    if not text.strip():
        raise ValidationError("a path or URL must not be empty")
    if "\x00" in text:
        raise ValidationError("a path or URL must not hold a NUL character")
    if len(text) > PATH_MAX:
        raise ValidationError(f"a path or URL of {len(text)} characters; at most {PATH_MAX}")
    return _locate(text)


CONNECTIONS: Callable[[str], tuple[Any, str]] | None = None
"""How a ``storage://NAME`` connection becomes a filesystem and its root path (installed by
:mod:`annotation_kit.library.storage`, which reads the connections from the workspace)."""


@functools.lru_cache(maxsize=4096)
def _locate(text: str) -> Location:
    if text.startswith("storage://"):  # a named connection (annotation_kit.library.storage)
        name, _, rest = text.removeprefix("storage://").partition("/")
        if CONNECTIONS is None:
            raise ValueError(
                "storage:// URLs need annotation_kit.library.storage (open a workspace)"
            )
        fs, root = CONNECTIONS(name)
        inside = _inside(rest, text)
        path = f"{root.rstrip('/')}/{inside}" if inside else root
        if isinstance(fs, LocalFileSystem):  # a symbolic link may point out of the root
            real, real_root = os.path.realpath(path), os.path.realpath(root)
            if real != real_root and not real.startswith(real_root.rstrip("/") + "/"):
                raise ValidationError(f"{text} leads out of the root of storage {name!r}")
        return Location(fs, path, text.rstrip("/"))
    if "://" not in text or text.startswith("file://"):
        path = Path(text.removeprefix("file://")).expanduser().resolve()
        return Location(LocalFileSystem(), str(path), path.as_uri())
    _inside(text.split("://", 1)[1], text)  # no '..' in an object store's key either
    if not text.startswith(("http://", "https://")):
        text = without_credentials(text)  # only HTTP reads them from the URL; others, never
    try:
        fs, path = fsspec.core.url_to_fs(text)
    except ImportError:
        if text.startswith(("s3://", "s3a://")):
            from ._plugins import extra

            extra("s3", "s3fs", f"reading {without_credentials(text)}")
        raise
    if "://" in path:  # HTTP keeps the whole URL as its path
        return Location(fs, path, without_credentials(path))
    protocol = fs.protocol[0] if isinstance(fs.protocol, (tuple, list)) else fs.protocol
    return Location(fs, path, without_credentials(f"{protocol}://{path}"))


def _inside(path: str, text: str) -> str:
    """``path`` (below a root) as plain ``a/b/c``: refused when a part of it, as written or
    percent-decoded, is ``..`` (which would leave the root), or holds a NUL or a backslash."""
    decoded = path
    for _ in range(3):  # %252e%252e is %2e%2e is ..
        decoded = unquote(decoded)
    if "\x00" in decoded or "\\" in decoded:
        raise ValidationError(f"{text!r} holds a NUL or a backslash; paths use '/'")
    parts = [part for part in decoded.split("/") if part not in ("", ".")]
    if ".." in parts:
        raise ValidationError(f"{text} climbs out of its root with '..'; name a path inside it")
    return "/".join(part for part in path.split("/") if part not in ("", "."))


def without_credentials(url: str) -> str:
    """``url`` without a user name or password in it (``http://user:pass@host/x`` →
    ``http://host/x``): what is stored and shown of a URL; credentials come from the
    environment or the storage's own configuration."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))


_USERINFO = re.compile(r"(?P<scheme>\b[a-zA-Z][a-zA-Z0-9+.-]*://)[^/\s@'\"]+@")


def scrub(text: str) -> str:
    """``text`` with the user name and password taken out of every URL in it (for notes,
    logs and error messages that quote a URL)."""
    return _USERINFO.sub(r"\g<scheme>", text) if "@" in text else text


def holds_credentials(text: str) -> bool:
    """Whether a URL in ``text`` carries a user name or password."""
    return "@" in text and bool(_USERINFO.search(text))


def scrub_all(value: Any) -> Any:
    """:func:`scrub` applied to every string inside ``value`` (JSON-like data)."""
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        return {k: scrub_all(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [scrub_all(v) for v in value]
    return value


ROOTS_ENV = "ANNOTATION_KIT_ROOTS"
"""Comma-separated folders and storage URL prefixes that imports and exports of non-admins
are confined to (``/data/robot,s3://lab-episodes``); unset: no confinement."""


def roots() -> list[str] | None:
    """The configured roots (local folders resolved, URL prefixes without credentials), or
    None when this process has none."""
    configured = os.environ.get(ROOTS_ENV, "").strip()
    if not configured:
        return None
    return [locate(item.strip()).url.rstrip("/") for item in configured.split(",") if item.strip()]


def require_within(location: Location, *, admin: bool, what: str) -> None:
    """Refuse ``location`` (already resolved: a local path through a symbolic link is where it
    points) when it is outside the configured roots, unless the user is an admin."""
    from ..errors import PermissionDenied

    allowed = roots()
    url = location.url.rstrip("/")
    if admin or allowed is None or url.startswith("storage://"):  # connections: admins' own
        return
    if not any(url == root or url.startswith(root + "/") for root in allowed):
        raise PermissionDenied(
            f"{what} {url} is outside the folders and storage this workspace allows "
            f"(${ROOTS_ENV}: {', '.join(allowed)}); ask an admin"
        )
