"""CSV read for the all-or-nothing imports (users, skills): rows with their line numbers."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from ..errors import ValidationError


def rows(
    source: str | Path | io.TextIOBase, required: set[str], what: str, header: str
) -> list[tuple[int, dict[str, str]]]:
    """``(line, row)`` for each row of ``source`` (a path, CSV text or an open file), the
    header lower-cased; refused unless the header holds the ``required`` columns (``header``
    is the one to show)."""
    try:
        text = _text_of(source)
        reader = csv.DictReader(io.StringIO(text))
        found = [h.strip().lower() for h in reader.fieldnames or []]
        if not required <= set(found):
            raise ValidationError(
                f"{what} CSV needs a header {header!r}; found {reader.fieldnames!r}"
            )
        reader.fieldnames = found
        return [(reader.line_num, row) for row in reader]
    except (OSError, UnicodeError, csv.Error) as exc:  # unreadable: say so, write nothing
        raise ValidationError(f"{what} CSV cannot be read: {exc}") from None


def _text_of(source: object) -> str:
    """The CSV text of a path, CSV text or an open text file."""
    if isinstance(source, Path) or (
        isinstance(source, str) and "\n" not in source and len(source) < 4096
        and Path(source).is_file()
    ):  # fmt: skip
        return Path(source).read_text(encoding="utf-8-sig")
    if isinstance(source, str):
        return source
    read = getattr(source, "read", None)
    text = read() if callable(read) else None
    if not isinstance(text, str):
        raise ValidationError(
            f"a CSV is a path, CSV text or an open text file, not {type(source).__name__}"
        )
    return text
