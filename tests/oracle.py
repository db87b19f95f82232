"""The workflow rules as the issue states them, written out independently of workflow.py."""

FLOW = {  # action: (from, to, assigned duty that may take it besides managers and admins)
    "start": ("pending", "in_progress", "annotator"),
    "submit": ("in_progress", "pending_review", "annotator"),
    "approve": ("pending_review", "review_passed", "reviewer"),
    "reject": ("pending_review", "in_progress", "reviewer"),
    "submit_data": ("review_passed", "data_submitted", None),
}
STATUSES = ["pending", "in_progress", "pending_review", "review_passed", "data_submitted"]
# actor: (global role, duty on the task, active)
ACTORS = {
    "ann": ("annotator", "annotator", True),
    "rita": ("reviewer", "reviewer", True),
    "ann2": ("annotator", None, True),
    "rita2": ("reviewer", None, True),
    "maya": ("manager", None, True),
    "ada": ("admin", None, True),
    "vic": ("visitor", None, True),
    "col": ("collector", None, True),
}


def may_see(actor: str) -> bool:
    """Whether the actor sees a task of no project: managers and admins see every task, anyone
    else only the tasks they are on."""
    role, duty, active = ACTORS[actor]
    return active and (role in ("admin", "manager") or duty is not None)


def outcome(actor: str, status: str, action: str) -> str:
    """'ok', 'invalid' (no such step from this status) or 'denied': the workflow's answer."""
    source, _target, duty = FLOW[action]
    if status != source:
        return "invalid"
    role, has_duty, active = ACTORS[actor]
    if not active:
        return "denied"
    if role in ("admin", "manager") or (duty is not None and has_duty == duty):
        return "ok"
    return "denied"


def may_edit_annotations(actor: str, status: str) -> bool:
    role, duty, active = ACTORS[actor]
    if role in ("admin", "manager"):
        return active
    return active and duty == "annotator" and status == "in_progress"


def outcome_for(actor: str, status: str, action: str) -> str:
    """What a call through the actor's workspace answers: 'unseen' (not found) when the actor
    may not see the task at all, whatever the step; else the workflow's :func:`outcome`."""
    return outcome(actor, status, action) if may_see(actor) else "unseen"
