"""What list queries share: a page of results, its bounds, and safe substring patterns."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import ValidationError

MAX_PAGE_SIZE = 500


@dataclass(frozen=True)
class Page[T]:
    items: list[T]
    total: int
    """How many rows match the filter over all pages."""
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


def check_page(page: int, page_size: int) -> None:
    if page < 1 or not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ValidationError(f"page must be ≥ 1 and page_size between 1 and {MAX_PAGE_SIZE}")


def contains(text: str) -> str:
    """A LIKE pattern matching ``text`` anywhere, with ``%``, ``_`` and ``\\`` taken literally
    (use with ``escape="\\\\"``)."""
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
