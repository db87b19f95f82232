"""Every table of the shared workspace, as typed SQLAlchemy 2.0 models.

Times on the episode clock are integer nanoseconds; wall-clock timestamps are timezone-aware
UTC. Tasks and annotations carry a ``version`` that SQLAlchemy checks on every update, so a
stale copy can never overwrite a newer one.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from .enums import Duty, Role, Status

NAME_MAX = 200
TEXT_MAX = 20_000


def utcnow() -> datetime:
    """Now, timezone-aware, in UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        """Store as UTC; a naive datetime is refused."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: pass a timezone-aware datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        """Read back as an aware UTC datetime."""
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


JSONType = JSON().with_variant(JSONB(), "postgresql")


def _enum(cls: type[StrEnum]) -> Enum:
    return Enum(
        cls,
        native_enum=False,
        create_constraint=False,
        length=32,
        values_callable=lambda e: [m.value for m in e],
    )


NEVER_REUSED = {"sqlite_autoincrement": True}
"""Table option: SQLite never hands a deleted row's id to a new row (migration 0007)."""


class Base(DeclarativeBase):
    """The declarative base: one metadata with named constraints (stable migrations)."""

    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(table_name)s_%(column_0_N_name)s",
            "uq": "uq_%(table_name)s_%(column_0_N_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )
    type_annotation_map = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSONType,
        list[str]: JSONType,
        list[dict[str, Any]]: JSONType,
        list[int]: JSONType,
        dict[str, str]: JSONType,
    }


class UserStatus(StrEnum):
    """Whether a user may act: active, or disabled (kept for history, cannot log in)."""

    ACTIVE = "active"
    DISABLED = "disabled"


class Provenance(StrEnum):
    """Where an annotation came from."""

    HUMAN = "human"
    MODEL = "model"
    IMPORT = "import"


class AnnotationKind(StrEnum):
    """What an annotation covers: a time segment or the whole episode."""

    SEGMENT = "segment"
    """A time range on the episode clock."""
    EPISODE = "episode"
    """A verdict on the whole episode (start/end empty)."""


class Decision(StrEnum):
    """A reviewer's decision."""

    PASS = "pass"
    REJECT = "reject"


class JobState(StrEnum):
    """Where a background job is (:mod:`annotation_kit.jobs`)."""

    WAITING = "waiting"
    DELAYED = "delayed"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


class ExportStatus(StrEnum):
    """Where an export run is."""

    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"


class QcStatus(StrEnum):
    """A dataset's data-check outcome (:mod:`annotation_kit.data.checks`)."""

    UNCHECKED = "unchecked"
    PASS = "pass"
    WARNING = "warning"
    ERROR = "error"
    OVERRIDDEN = "overridden"


class ObjectType(StrEnum):
    """What an audit event is about."""

    TASK = "task"
    ANNOTATION = "annotation"
    DATASET = "dataset"
    PROJECT = "project"
    USER = "user"
    SKILL = "skill"
    DICTIONARY = "dictionary"
    EXPORT = "export"
    JOB = "job"
    QUEUE = "queue"
    IMPORT = "import"
    QC = "qc"
    FEEDBACK = "feedback"
    SETTING = "setting"
    GUIDELINE = "guideline"
    STORAGE = "storage"


EMAIL_MAX = 254


class User(Base):
    """A person (or the system) acting in the workspace, with one role."""

    __tablename__ = "users"
    __table_args__ = NEVER_REUSED

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_MAX), unique=True)
    display_name: Mapped[str] = mapped_column(String(NAME_MAX), default="")
    role: Mapped[Role] = mapped_column(_enum(Role))
    email: Mapped[str | None] = mapped_column(String(EMAIL_MAX), unique=True, default=None)
    """Lower-case; how a single sign-on identity (OpenID Connect) finds its user."""
    status: Mapped[UserStatus] = mapped_column(_enum(UserStatus), default=UserStatus.ACTIVE)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    preferences: Mapped[dict[str, Any]] = mapped_column(default=dict)
    """The user's own settings (which overview charts, filters and date range they keep)."""

    @property
    def active(self) -> bool:
        """Whether the user may act (not disabled)."""
        return self.status == UserStatus.ACTIVE

    def __repr__(self) -> str:
        return f"<User {self.name!r} {self.role}{'' if self.active else ' disabled'}>"


class Project(Base):
    """A group of datasets and tasks with its members."""

    __tablename__ = "projects"
    __table_args__ = NEVER_REUSED

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_MAX), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    qc_rules: Mapped[list[dict[str, Any]]] = mapped_column(default=list)
    """Data checks every dataset of the project must pass (see
    :mod:`annotation_kit.data.checks`)."""
    annotation_rules: Mapped[list[dict[str, Any]]] = mapped_column(default=list)
    """Rules a finished episode's annotations must meet (:mod:`annotation_kit.work.rules`)."""
    review_policy: Mapped[dict[str, Any]] = mapped_column(default=dict)
    """How reviewers of the project's tasks draw their samples by default
    (:func:`annotation_kit.work.reviews.set_review_policy`)."""
    visibility: Mapped[str] = mapped_column(String(16), default="private")
    """``private`` (its members see it) or ``visible`` (everyone sees it, read-only)."""
    archived_at: Mapped[datetime | None] = mapped_column(default=None)
    """When it was archived: kept and readable, but no new task is created in it."""
    members: Mapped[list[User]] = relationship(secondary="project_members", lazy="selectin")

    def __repr__(self) -> str:
        return f"<Project #{self.id} {self.name!r}>"


class ProjectLibrary(Base):
    """A skill or dictionary a project uses: its annotators are offered only those (a project
    that names none is offered the whole library)."""

    __tablename__ = "project_library"

    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    """``skill`` or ``dictionary``."""
    item_id: Mapped[int] = mapped_column(Integer, primary_key=True)


class ProjectMember(Base):
    """A user's membership of a project."""

    __tablename__ = "project_members"

    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True, index=True)


class Dataset(Base):
    """One recorded episode: cameras and time series, indexed by metadata only."""

    __tablename__ = "datasets"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_MAX))
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id"), index=True)
    source_uri: Mapped[str] = mapped_column(String(2000), unique=True)
    format: Mapped[str] = mapped_column(String(32))
    duration_ns: Mapped[int] = mapped_column(BigInteger)
    start_time_ns: Mapped[int] = mapped_column(BigInteger, default=0)
    streams: Mapped[list[dict[str, Any]]] = mapped_column(default=list)
    """Stream descriptions (name, kind, rate, count, ...) as JSON objects."""
    cameras: Mapped[list[dict[str, Any]]] = mapped_column(default=list)
    size_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    robot: Mapped[str] = mapped_column(String(NAME_MAX), default="")
    tags: Mapped[list[str]] = mapped_column(default=list)
    meta: Mapped[dict[str, Any]] = mapped_column("metadata", default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    qc_status: Mapped[str] = mapped_column(String(16), default="unchecked", index=True)
    """Data-check outcome: unchecked, pass, warning, error, or overridden (with a reason)."""
    qc_results: Mapped[list[dict[str, Any]]] = mapped_column(default=list)
    qc_override: Mapped[dict[str, Any] | None] = mapped_column(JSONType)

    __table_args__ = (
        CheckConstraint("duration_ns >= 0", name="duration_not_negative"),
        CheckConstraint("size_bytes >= 0", name="size_not_negative"),
        NEVER_REUSED,
    )

    def __repr__(self) -> str:
        return f"<Dataset #{self.id} {self.name!r} {self.format} {self.duration_ns / 1e9:.1f}s>"


class TaskMember(Base):
    """A user's duty on a task: annotator or reviewer."""

    __tablename__ = "task_members"

    task_id: Mapped[int] = mapped_column(
        ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    duty: Mapped[Duty] = mapped_column(_enum(Duty), primary_key=True)
    user: Mapped[User] = relationship(lazy="joined")
    # The task's status and creation time, copied by the database (triggers of migration 0016)
    # whenever a member is added or the task's status changes: a person's board counts and
    # lists their tasks from one index of this table, without touching ``tasks``.
    status: Mapped[Status | None] = mapped_column(_enum(Status), nullable=True)
    created_at: Mapped[datetime | None]

    __table_args__ = (
        Index("ix_task_members_person", "user_id", "duty", "status", "created_at", "task_id"),
    )


class TaskDataset(Base):
    """A dataset's place in a task."""

    __tablename__ = "task_datasets"

    task_id: Mapped[int] = mapped_column(
        ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True
    )
    dataset_id: Mapped[int] = mapped_column(ForeignKey("datasets.id"), primary_key=True, index=True)
    independent: Mapped[bool] = mapped_column(Boolean, default=False)
    """Annotated independently by each annotator of the task, who do not see each other's
    segments; a reviewer then picks the consensus, which is what exports carry
    (:mod:`annotation_kit.work.consensus`)."""


class Task(Base):
    """An annotation task: datasets, people, a workflow status and a version."""

    __tablename__ = "tasks"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_MAX))
    description: Mapped[str] = mapped_column(Text, default="")
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id"), index=True)
    creator_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    deadline: Mapped[datetime | None]
    status: Mapped[Status] = mapped_column(_enum(Status), default=Status.PENDING)
    review_round: Mapped[int] = mapped_column(Integer, default=1)
    """The review round the task is in; a rejection starts the next one."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    started_at: Mapped[datetime | None]
    submitted_at: Mapped[datetime | None]
    passed_at: Mapped[datetime | None]
    data_submitted_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    members: Mapped[list[TaskMember]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", passive_deletes=True
    )
    project: Mapped[Project | None] = relationship(lazy="joined")
    creator: Mapped[User] = relationship(lazy="joined")

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        Index("ix_tasks_status_created_at", "status", "created_at"),
        Index("ix_tasks_created_at", "created_at"),
        NEVER_REUSED,
    )

    @property
    def annotators(self) -> list[User]:
        """The task's annotators, by name."""
        return sorted((m.user for m in self.members if m.duty == Duty.ANNOTATOR), key=_by_name)

    @property
    def reviewers(self) -> list[User]:
        """The task's reviewers, by name."""
        return sorted((m.user for m in self.members if m.duty == Duty.REVIEWER), key=_by_name)

    def __repr__(self) -> str:
        return f"<Task #{self.id} {self.name!r} {self.status.label} v{self.version}>"


def _by_name(user: User) -> str:
    return user.name


class Skill(Base):
    """An entry of the skill library; ``version`` goes up on every edit."""

    __tablename__ = "skills"
    __table_args__ = NEVER_REUSED

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_MAX), unique=True)
    category: Mapped[str] = mapped_column(String(NAME_MAX), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    tags: Mapped[list[str]] = mapped_column(default=list)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    requires: Mapped[list[int]] = mapped_column(default=list)
    """Ids of the skills that must come before this one in an episode (a rule check)."""
    position: Mapped[int | None] = mapped_column(Integer, default=None)
    """Hot-key order in the annotator (1 is the first key); unset ones follow by name."""
    deprecated: Mapped[bool] = mapped_column(Boolean, default=False)
    """Kept on the annotations that use it, but no longer offered."""
    merged_into: Mapped[int | None] = mapped_column(Integer, default=None)
    """The skill it was merged into (its annotations now point there)."""

    def __repr__(self) -> str:
        return f"<Skill {self.name!r} v{self.version}>"


class SkillVersion(Base):
    """A frozen copy of a skill as it was at one version; annotations point at these."""

    __tablename__ = "skill_versions"

    skill_id: Mapped[int] = mapped_column(ForeignKey("skills.id"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_MAX))
    category: Mapped[str] = mapped_column(String(NAME_MAX), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    tags: Mapped[list[str]] = mapped_column(default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Dictionary(Base):
    """A named list of allowed values (labels, objects, targets...)."""

    __tablename__ = "dictionaries"
    __table_args__ = NEVER_REUSED

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_MAX), unique=True)
    kind: Mapped[str] = mapped_column(String(64), default="labels")
    entries: Mapped[list[str]] = mapped_column(default=list)
    description: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(Integer, default=1)

    def __repr__(self) -> str:
        return f"<Dictionary {self.name!r} v{self.version} ({len(self.entries)} entries)>"


class DictionaryVersion(Base):
    """A frozen copy of a dictionary as it was at one version."""

    __tablename__ = "dictionary_versions"

    dictionary_id: Mapped[int] = mapped_column(ForeignKey("dictionaries.id"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_MAX))
    kind: Mapped[str] = mapped_column(String(64))
    entries: Mapped[list[str]] = mapped_column(default=list)
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class StorageConnection(Base):
    """A named place recordings live (S3, MinIO, GCS, a local root): its non-secret options
    only; its secrets come from the environment or a secrets file
    (:mod:`annotation_kit.library.storage`)."""

    __tablename__ = "storage_connections"
    __table_args__ = NEVER_REUSED

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    options: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Guideline(Base):
    """One version of the annotation guideline (Markdown) of a project or of a skill: a new
    row per edit, the highest version the current one (versions are numbered while the
    project's or skill's row is locked)."""

    __tablename__ = "guidelines"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int | None] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), default=None
    )
    skill_id: Mapped[int | None] = mapped_column(ForeignKey("skills.id"), default=None)
    version: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        Index("ix_guidelines_project_id_skill_id", "project_id", "skill_id"),
        CheckConstraint(
            "(project_id IS NULL) <> (skill_id IS NULL)", name="of_a_project_or_a_skill"
        ),
        NEVER_REUSED,
    )


class Annotation(Base):
    """A time segment, or an episode-level verdict or invalid mark, on one dataset of a task."""

    __tablename__ = "annotations"

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"))
    dataset_id: Mapped[int] = mapped_column(ForeignKey("datasets.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[AnnotationKind] = mapped_column(_enum(AnnotationKind))
    start_ns: Mapped[int | None] = mapped_column(BigInteger)
    end_ns: Mapped[int | None] = mapped_column(BigInteger)
    skill_id: Mapped[int | None] = mapped_column(ForeignKey("skills.id"), index=True)
    skill_version: Mapped[int | None] = mapped_column(Integer)
    labels: Mapped[list[str]] = mapped_column(default=list)
    description: Mapped[str] = mapped_column(Text, default="")
    attributes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    provenance: Mapped[Provenance] = mapped_column(_enum(Provenance), default=Provenance.HUMAN)
    model_ref: Mapped[str | None] = mapped_column(String(NAME_MAX))
    valid: Mapped[bool] = mapped_column(Boolean, default=True)
    invalid_reason: Mapped[str | None] = mapped_column(Text)
    consensus: Mapped[bool] = mapped_column(Boolean, default=False)
    """Part of the consensus a reviewer picked on an independently annotated dataset."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow, index=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        Index("ix_annotations_task_id_dataset_id", "task_id", "dataset_id"),
        CheckConstraint("start_ns IS NULL OR start_ns >= 0", name="start_not_negative"),
        CheckConstraint("start_ns IS NULL OR end_ns >= start_ns", name="end_after_start"),
        NEVER_REUSED,
    )

    def __repr__(self) -> str:
        span = (
            "episode" if self.kind == AnnotationKind.EPISODE else f"{self.start_ns}-{self.end_ns}"
        )
        return f"<Annotation #{self.id} task={self.task_id} {span} v{self.version}>"


class GoldEpisode(Base):
    """An episode whose annotations in one task are the reference: annotators of other tasks
    that include the episode are measured against them (:mod:`annotation_kit.quality.gold`)."""

    __tablename__ = "gold_episodes"

    dataset_id: Mapped[int] = mapped_column(ForeignKey("datasets.id"), primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), index=True)
    """The task whose annotations of the episode are the reference."""
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"<GoldEpisode dataset #{self.dataset_id} from task #{self.task_id}>"


class Feedback(Base):
    """A question or problem raised on a task — about an episode, a time range of it, or the
    task as a whole — with its replies (``parent_id``) and, once settled, who resolved it."""

    __tablename__ = "feedback"
    __table_args__ = NEVER_REUSED

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), index=True)
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("feedback.id", ondelete="CASCADE"), index=True
    )
    """The issue a reply answers (None: the issue itself)."""
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(32), default="question")
    """An issue's kind: guideline (unclear), recording (bad), skill (missing), question."""
    text: Mapped[str] = mapped_column(Text)
    dataset_id: Mapped[int | None] = mapped_column(ForeignKey("datasets.id"))
    range_start_ns: Mapped[int | None] = mapped_column(BigInteger)
    range_end_ns: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column()
    resolved_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class Review(Base):
    """A reviewer's decision on a whole task in one review round."""

    __tablename__ = "reviews"
    __table_args__ = NEVER_REUSED

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), index=True)
    round: Mapped[int] = mapped_column(Integer)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    decision: Mapped[Decision] = mapped_column(_enum(Decision))
    comment: Mapped[str] = mapped_column(Text, default="")
    dataset_id: Mapped[int | None] = mapped_column(ForeignKey("datasets.id"))
    range_start_ns: Mapped[int | None] = mapped_column(BigInteger)
    range_end_ns: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AnnotationVerdict(Base):
    """A reviewer's pass/reject of one annotation in one round, optionally anchored in time."""

    __tablename__ = "annotation_verdicts"

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), index=True)
    annotation_id: Mapped[int] = mapped_column(
        ForeignKey("annotations.id", ondelete="CASCADE"), index=True
    )
    annotation_version: Mapped[int] = mapped_column(Integer)
    round: Mapped[int] = mapped_column(Integer)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    decision: Mapped[Decision] = mapped_column(_enum(Decision))
    comment: Mapped[str] = mapped_column(Text, default="")
    range_start_ns: Mapped[int | None] = mapped_column(BigInteger)
    range_end_ns: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("annotation_id", "round", "reviewer_id"), NEVER_REUSED)


class Event(Base):
    """One append-only line of the audit log: who did what to which object, and when."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[int] = mapped_column(BigInteger)
    action: Mapped[str] = mapped_column(String(64))
    from_state: Mapped[str | None] = mapped_column(String(64))
    to_state: Mapped[str | None] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    actor: Mapped[User | None] = relationship(lazy="joined")

    __table_args__ = (Index("ix_events_object_type_object_id", "object_type", "object_id"),)

    def __repr__(self) -> str:
        who = self.actor.name if self.actor else "system"
        change = ""
        if self.from_state or self.to_state:
            change = f" {self.from_state or ''}->{self.to_state or ''}"
        when = f"{self.at:%Y-%m-%d %H:%M:%S}"
        return f"<Event {when} {who} {self.action} {self.object_type} #{self.object_id}{change}>"


class Export(Base):
    """One export: who ran it, when, format, options, counts, size, status and where; a named
    export is a release of a project's training data (numbered, with its parent release)."""

    __tablename__ = "exports"
    __table_args__ = NEVER_REUSED

    id: Mapped[int] = mapped_column(primary_key=True)
    format: Mapped[str] = mapped_column(String(64))
    destination: Mapped[str] = mapped_column(String(2000), index=True)
    options: Mapped[dict[str, Any]] = mapped_column(default=dict)
    tasks: Mapped[list[int]] = mapped_column(default=list)
    status: Mapped[str] = mapped_column(String(16), default="running")
    """running, completed or failed."""
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column()
    size_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    counts: Mapped[dict[str, Any]] = mapped_column(default=dict)
    cleaned: Mapped[list[str]] = mapped_column(default=list)
    """What the checks before writing changed or left out."""
    files: Mapped[dict[str, str]] = mapped_column(default=dict)
    """Path → SHA-256 of every file written (the manifest lists them too)."""
    error: Mapped[str | None] = mapped_column(Text)
    release: Mapped[str | None] = mapped_column(String(NAME_MAX), index=True)
    release_version: Mapped[int | None] = mapped_column(Integer)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("exports.id"))

    def __repr__(self) -> str:
        name = f" release {self.release} v{self.release_version}" if self.release else ""
        return f"<Export #{self.id} {self.format} {self.status}{name} -> {self.destination}>"


class ExportItem(Base):
    """One annotation (at one version) included in an export."""

    __tablename__ = "export_items"

    export_id: Mapped[int] = mapped_column(
        ForeignKey("exports.id", ondelete="CASCADE"), primary_key=True
    )
    annotation_id: Mapped[int] = mapped_column(primary_key=True)
    annotation_version: Mapped[int] = mapped_column(Integer)
    dataset_id: Mapped[int] = mapped_column(Integer)


class Job(Base):
    """One background job in the ledger (see :mod:`annotation_kit.jobs`)."""

    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(64), index=True)
    params: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    state: Mapped[str] = mapped_column(String(16), default="waiting")
    """waiting, delayed, running, completed, failed or cancelled."""
    eta: Mapped[datetime | None] = mapped_column()
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    log: Mapped[list[str]] = mapped_column(default=list)
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    worker: Mapped[str | None] = mapped_column(String(200))
    parked: Mapped[bool] = mapped_column(Boolean, default=False)
    """Fetched while the queue was paused: sent to the workers again on resume."""
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column()
    heartbeat_at: Mapped[datetime | None] = mapped_column()

    # One index for counts per state, throughput and clean-up: each claim and finish of a job
    # then rewrites one index rather than two.
    __table_args__ = (Index("ix_jobs_state_finished_at", "state", "finished_at"), NEVER_REUSED)

    def __repr__(self) -> str:
        return f"<Job #{self.id} {self.kind} {self.state} {self.progress:.0%}>"


class QueueState(Base):
    """The queue's one row: paused or not, since when and by whom."""

    __tablename__ = "queue_state"

    id: Mapped[int] = mapped_column(primary_key=True)
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    changed_at: Mapped[datetime | None] = mapped_column()
    changed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class Setting(Base):
    """A workspace-wide setting an admin changed from its default
    (:mod:`annotation_kit.library.settings`)."""

    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[Any] = mapped_column(JSONType)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[int] = mapped_column(ForeignKey("users.id"))


class Login(Base):
    """How a user logs in to the served app: a password hash (never the password), failed
    attempts for throttling, and an epoch that, when it moves, ends every open session."""

    __tablename__ = "logins"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    password_hash: Mapped[str] = mapped_column(String(255))
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    """Failed attempts since the last success."""
    locked_until: Mapped[datetime | None] = mapped_column()
    epoch: Mapped[int] = mapped_column(Integer, default=1)
    """Part of every session cookie: a password change or reset moves it."""

    def __repr__(self) -> str:
        return f"<Login user #{self.user_id} epoch {self.epoch}>"


class DatabaseLogin(Base):
    """A PostgreSQL login (role) that identifies a person: once a workspace has any, ``connect()``
    acts as the user its session's login is linked to, whatever name the caller gives."""

    __tablename__ = "database_logins"

    role: Mapped[str] = mapped_column(String(63), primary_key=True)
    """The database role name, as ``session_user`` reports it."""
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"<DatabaseLogin {self.role!r} → user #{self.user_id}>"


class AppliedWrite(Base):
    """A write a page or a notebook sent with its own id, applied once (:mod:`.writes`): a copy
    of the same id arriving again (a re-send after a reconnect or a reload) is not applied."""

    __tablename__ = "applied_writes"

    id: Mapped[str] = mapped_column(String(96), primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class WorkerPresence(Base):
    """A worker process that runs queued jobs, as last heard from (:mod:`.jobs.presence`)."""

    __tablename__ = "worker_presence"

    name: Mapped[str] = mapped_column(String(NAME_MAX), primary_key=True)
    """``host:pid``."""
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    seen_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
