"""One engine for a project's rules: the data checks run on each imported episode's metadata
(:mod:`annotation_kit.data.checks`) and the annotation rules run on an annotated episode
(:mod:`annotation_kit.work.rules`). Each kind of rule is declared once — the settings it takes
with their types, those it needs, any further condition on their values — and every rule goes
through one validation: a list of mappings, a known kind, severity ``error`` or ``warning``,
no unknown setting, each of the right type (numbers finite and not negative, lists of
non-empty names), an error naming the rule's place, its kind and the setting. Every rule is
evaluated the one way too: its kind's ``evaluate`` says where a subject (an episode's metadata,
an annotated episode) breaks it, as :class:`Broken` places; the engine's users only say what
their subject is and how they report what was found."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import ValidationError

SEVERITIES = ("error", "warning")
NUMBER = (int, float)
NAMES = list
"""A list of non-empty names (skills, stream patterns...)."""


@dataclass(frozen=True)
class Broken:
    """One place where a subject breaks a rule: what is wrong, and where (``annotation_id``,
    ``start_ns``, ``end_ns``... as the subject has places)."""

    message: str
    place: dict[str, int | None] = field(default_factory=dict)


@dataclass(frozen=True)
class Kind:
    """A kind of rule: its settings and their types, those it needs, ``check``, which returns
    what is wrong with a rule's settings (or None), and ``evaluate``, which returns where a
    subject breaks a (validated) rule of this kind (nothing: it keeps it)."""

    settings: dict[str, Any] = field(default_factory=dict)
    needs: tuple[str, ...] = ()
    check: Callable[[dict[str, Any]], str | None] | None = None
    evaluate: Callable[[dict[str, Any], Any], Iterable[Broken]] = lambda _rule, _subject: ()


def _kind_name(expected: Any) -> str:
    names = {
        bool: "true or false",
        int: "whole number",
        str: "text",
        list: "list of names",
        dict: "mapping",
    }
    if expected == NUMBER:
        return "number"
    if isinstance(expected, tuple):
        return " or ".join(_kind_name(e) for e in expected)
    return names.get(expected, getattr(expected, "__name__", str(expected)))


def _problem(value: Any, expected: Any) -> str | None:
    """What is wrong with ``value`` for a setting of type ``expected`` (None: nothing)."""
    types = expected if isinstance(expected, tuple) else (expected,)
    if (isinstance(value, bool) and bool not in types) or not isinstance(value, types):
        return f"must be a {_kind_name(expected)} (it has the wrong type)"
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if number and (not math.isfinite(value) or value < 0):
        return "must be a finite number and must not be negative"
    if isinstance(value, list) and not all(isinstance(v, str) and v.strip() for v in value):
        return "must be a list of names"
    return None


@dataclass(frozen=True)
class Rulebook:
    """The rule kinds of one engine user; ``key`` names the kind in a rule ("kind", "rule")."""

    key: str
    kinds: dict[str, Kind]

    def validate(self, rules: Iterable[Any]) -> list[dict[str, Any]]:
        """Checked, normalised copies of ``rules`` (severity filled in); the first bad one is
        refused with its place, kind and setting named."""
        if isinstance(rules, dict | str) or not isinstance(rules, Iterable):
            raise ValidationError(f"rules must be a list of mappings, each with a {self.key!r}")
        known = ", ".join(sorted(self.kinds))
        out = []
        for n, rule in enumerate(rules, 1):
            if not isinstance(rule, dict):
                raise ValidationError(f"rule {n} must be a mapping, not {type(rule).__name__}")
            kind = rule.get(self.key)
            if kind not in self.kinds:
                raise ValidationError(
                    f"rule {n}: unknown kind {kind!r}; {self.key} must be one of {known}"
                )
            where = f"rule {n} ({kind})"
            severity = rule.get("severity", "error")
            if severity not in SEVERITIES:
                raise ValidationError(f"{where}: severity must be error or warning")
            spec = self.kinds[kind]
            settings = {k: v for k, v in rule.items() if k not in (self.key, "severity")}
            for key, value in settings.items():
                if key not in spec.settings:
                    takes = ", ".join(spec.settings) or "none"
                    raise ValidationError(f"{where}: unknown setting {key!r}; {kind} takes {takes}")
                if isinstance(value, tuple):
                    settings[key] = value = list(value)
                if problem := _problem(value, spec.settings[key]):
                    raise ValidationError(f"{where}: {key} {problem}")
            for key in spec.needs:
                if settings.get(key) in (None, [], ""):
                    raise ValidationError(f"{where} needs {key}")
            if spec.check is not None and (problem := spec.check(settings)):
                raise ValidationError(f"{where}: {problem}")
            out.append({self.key: kind, "severity": severity, **settings})
        return out

    def evaluate(
        self, rules: Sequence[dict[str, Any]], subject: Any
    ) -> list[tuple[dict[str, Any], list[Broken]]]:
        """Each (validated) rule with the places where ``subject`` breaks it, in rule order."""
        return [(rule, list(self.kinds[rule[self.key]].evaluate(rule, subject))) for rule in rules]
