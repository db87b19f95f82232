"""Checks of user-typed text: stored verbatim, refused only when empty, too long or binary."""

import pytest

from annotation_kit.access import _text
from annotation_kit.errors import ValidationError
from annotation_kit.store.models import NAME_MAX, TEXT_MAX


@pytest.mark.parametrize(
    "value",
    [
        "Robert'); DROP TABLE tasks;--",
        "<script>alert(1)</script>",
        "  padded  ",
        "名前",
        "a" * NAME_MAX,
    ],
)
def test_names_are_kept_verbatim(value):
    assert _text.name(value) == value


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("", "must not be empty"),
        ("   ", "must not be empty"),
        ("a" * (NAME_MAX + 1), "limit"),
        (None, "must be text"),
        (12, "must be text"),
        ("a\x00b", "NUL"),
    ],
)
def test_bad_names_are_refused_with_the_field_named(value, problem):
    with pytest.raises(ValidationError, match=problem) as caught:
        _text.name(value, "task name")
    assert "task name" in str(caught.value)


def test_free_text_limits():
    assert _text.text(None, "comment") == ""
    assert _text.text("x" * TEXT_MAX, "comment") == "x" * TEXT_MAX
    with pytest.raises(ValidationError, match="comment is 20001"):
        _text.text("x" * (TEXT_MAX + 1), "comment")
    with pytest.raises(ValidationError, match="must not be empty"):
        _text.text(" ", "comment", required=True)
