"""library, guidelines, projects, storage: skill dependencies, hot-key order, deprecation and
merges; dictionary versions; what each project uses; guidelines; project visibility and
archive; named storage connections

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-28 12:00:00

Skills gain ``requires`` (ids of skills that must come before in an episode), ``position``
(hot-key order), ``deprecated`` and ``merged_into``. Dictionaries gain a description and a
version, with a frozen copy per version (``dictionary_versions``) as skills have.
``project_library`` names the skills and dictionaries a project uses. ``guidelines`` holds each
version of a project's or a skill's Markdown guideline. Projects gain ``visibility`` and
``archived_at``. ``storage_connections`` names where recordings live, with non-secret options
only (secrets stay in the environment or a secrets file).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.add_column("skills", sa.Column("requires", JSON, nullable=False, server_default="[]"))
    op.add_column("skills", sa.Column("position", sa.Integer(), nullable=True))
    op.add_column(
        "skills", sa.Column("deprecated", sa.Boolean(), nullable=False, server_default=sa.false())
    )
    op.add_column("skills", sa.Column("merged_into", sa.Integer(), nullable=True))
    op.add_column(
        "dictionaries", sa.Column("description", sa.Text(), nullable=False, server_default="")
    )
    op.add_column(
        "dictionaries", sa.Column("version", sa.Integer(), nullable=False, server_default="1")
    )
    op.add_column(
        "projects",
        sa.Column("visibility", sa.String(length=16), nullable=False, server_default="private"),
    )
    op.add_column("projects", sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "dictionary_versions",
        sa.Column("dictionary_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("entries", JSON, nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["dictionary_id"],
            ["dictionaries.id"],
            name=op.f("fk_dictionary_versions_dictionary_id_dictionaries"),
        ),
        sa.PrimaryKeyConstraint("dictionary_id", "version", name=op.f("pk_dictionary_versions")),
    )
    # the dictionaries made before this migration: their version 1
    op.execute(
        "INSERT INTO dictionary_versions (dictionary_id, version, name, kind, entries, "
        "description, created_at) SELECT id, 1, name, kind, entries, '', CURRENT_TIMESTAMP "
        "FROM dictionaries"
    )
    op.create_table(
        "project_library",
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_project_library_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("project_id", "kind", "item_id", name=op.f("pk_project_library")),
    )
    op.create_table(
        "guidelines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=True),
        sa.Column("skill_id", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(project_id IS NULL) <> (skill_id IS NULL)",
            name=op.f("ck_guidelines_of_a_project_or_a_skill"),
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_guidelines_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["skill_id"], ["skills.id"], name=op.f("fk_guidelines_skill_id_skills")
        ),
        sa.ForeignKeyConstraint(
            ["author_id"], ["users.id"], name=op.f("fk_guidelines_author_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_guidelines")),
        sqlite_autoincrement=True,
    )
    op.create_index(
        op.f("ix_guidelines_project_id_skill_id"), "guidelines", ["project_id", "skill_id"]
    )
    op.create_table(
        "storage_connections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("options", JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_storage_connections")),
        sa.UniqueConstraint("name", name=op.f("uq_storage_connections_name")),
        sqlite_autoincrement=True,
    )


def downgrade() -> None:
    op.drop_table("storage_connections")
    op.drop_index(op.f("ix_guidelines_project_id_skill_id"), table_name="guidelines")
    op.drop_table("guidelines")
    op.drop_table("project_library")
    op.drop_table("dictionary_versions")
    with op.batch_alter_table("projects") as batch:
        batch.drop_column("archived_at")
        batch.drop_column("visibility")
    with op.batch_alter_table("dictionaries") as batch:
        batch.drop_column("version")
        batch.drop_column("description")
    with op.batch_alter_table("skills") as batch:
        batch.drop_column("merged_into")
        batch.drop_column("deprecated")
        batch.drop_column("position")
        batch.drop_column("requires")
