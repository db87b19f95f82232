"""CSV read for the all-or-nothing imports (users, skills): rows with their line numbers."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from .errors import ValidationError


def rows(
    source: str | Path | io.TextIOBase, required: set[str], what: str, header: str
) -> list[tuple[int, dict[str, str]]]:
    """``(line, row)`` for each row of ``source`` (a path, CSV text or an open file), the
    header lower-cased; refused unless the header holds the ``required`` columns (``header``
    is the one to show)."""
    if isinstance(source, Path) or (
        isinstance(source, str) and "\n" not in source and Path(source).is_file()
    ):
        text = Path(source).read_text(encoding="utf-8-sig")
    elif isinstance(source, str):
        text = source
    else:
        text = source.read()
    reader = csv.DictReader(io.StringIO(text))
    found = [h.strip().lower() for h in reader.fieldnames or []]
    if not required <= set(found):
        raise ValidationError(f"{what} CSV needs a header {header!r}; found {reader.fieldnames!r}")
    reader.fieldnames = found
    return [(reader.line_num, row) for row in reader]
