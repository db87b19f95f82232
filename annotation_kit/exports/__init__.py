"""Exports: the episodes and annotations of selected tasks, written in a format their consumers
load (JSON, CSV, MCAP, HDF5, or a plugin's), recorded, and never half-written.

``ws.export(tasks, "json", "out/run1")`` selects and checks what to include (:mod:`.plan`),
writes it into a staging folder beside the destination with the format's writer, and moves the
folder into place only once it is complete (:mod:`.run`). Writers are plain functions
``write(plan, folder, **options)`` registered by name (:mod:`.registry`); third-party ones come
through the ``annotation_kit.exporters`` entry point group.
"""

from .plan import AnnotationRecord, EpisodePlan, Plan
from .registry import exporter, exporters, register

__all__ = [
    "AnnotationRecord",
    "EpisodePlan",
    "Plan",
    "exporter",
    "exporters",
    "register",
]
