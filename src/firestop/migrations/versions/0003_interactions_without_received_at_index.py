"""interactions: drop the index on received_at

Nothing looks interactions up or orders them by when they arrived (lists, blast radius and
retention go by system and start time, OTLP joins by trace), while every ingested interaction
paid for the index: one more B-tree to insert into and to write to the WAL and checkpoint.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 18:20:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("interactions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_interactions_received_at"))


def downgrade() -> None:
    with op.batch_alter_table("interactions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_interactions_received_at"), ["received_at"], unique=False
        )
