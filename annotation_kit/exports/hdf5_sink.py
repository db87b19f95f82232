"""Writing an HDF5 file so that a full disk never kills the process: h5py writes through
:class:`_Sink`, which keeps what the disk refused in memory and reports it once the file is
closed cleanly."""

from __future__ import annotations

import errno
import io
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import h5py


@contextmanager
def hdf5_file(path: Path) -> Iterator[tuple[h5py.File, _Sink]]:
    """An HDF5 file written through :class:`_Sink`, closed deterministically on every path.

    HDF5 cannot recover from a failed write (a full disk): the file can then be neither
    flushed nor closed, and the process dies at the next garbage collection. So HDF5 never
    sees one: the sink keeps what the disk refused in memory, the writer stops at the next
    episode, the file closes cleanly, and the disk's error is raised afterwards.
    """
    sink = _Sink(path)
    try:
        out = h5py.File(sink, "w")
        try:
            yield out, sink
        finally:
            out.close()
    finally:
        sink.close()
    sink.check()


class _Sink(io.RawIOBase):
    """A file for h5py whose writes never fail: what the disk refuses is kept in memory (so
    reads still see it) and reported by :meth:`check`."""

    def __init__(self, path: Path) -> None:
        self._file = open(path, "w+b")  # noqa: SIM115 - closed by close()
        self._path = path
        self._at = 0
        self._kept: list[tuple[int, bytes]] = []
        self.error: OSError | None = None

    def check(self) -> None:
        if self.error is not None:
            raise OSError(
                self.error.errno,
                f"could not write {self._path.name}: {self.error.strerror}; "
                "the export was stopped and nothing was kept",
            )

    def seekable(self) -> bool:
        return True

    def readable(self) -> bool:
        return True

    def writable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_END:
            offset += self._size()
        elif whence == io.SEEK_CUR:
            offset += self._at
        self._at = offset
        return offset

    def tell(self) -> int:
        return self._at

    def _size(self) -> int:
        on_disk = os.fstat(self._file.fileno()).st_size
        return max([on_disk] + [at + len(data) for at, data in self._kept])

    def write(self, data: Any) -> int:
        data = bytes(data)
        if self.error is None:
            try:
                done = 0
                while done < len(data):  # a full disk may first take part of it
                    wrote = os.pwrite(self._file.fileno(), data[done:], self._at + done)
                    if wrote == 0:
                        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
                    done += wrote
            except OSError as exc:
                self.error = exc
        if self.error is not None:
            self._kept.append((self._at, data))
        self._at += len(data)
        return len(data)

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        data = bytearray(os.pread(self._file.fileno(), len(view), self._at))
        data.extend(bytes(len(view) - len(data)))
        for at, kept in self._kept:  # what the disk refused, in the order written
            lo, hi = max(at, self._at), min(at + len(kept), self._at + len(view))
            if lo < hi:
                data[lo - self._at : hi - self._at] = kept[lo - at : hi - at]
        view[:] = data
        self._at += len(view)
        return len(view)

    def truncate(self, size: int | None = None) -> int:
        size = self._at if size is None else size
        if self.error is None:
            try:
                self._file.truncate(size)
            except OSError as exc:
                self.error = exc
        return size

    def flush(self) -> None:
        pass

    def close(self) -> None:
        if not self._file.closed:
            self._file.close()
        super().close()
