"""Publication plans: the plan each reviewer approved, and the preview render queue.

Revision ID: 0004
Revises: 0006
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0010'
branch_labels = None
depends_on = None


def _ts() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table('approved_plans',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('candidate_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('reviewer', sa.String(length=100), nullable=False),
    sa.Column('plan_hash', sa.String(length=64), nullable=False),
    sa.Column('plan', sa.JSON(), nullable=False),
    sa.Column('created_at', _ts(), nullable=False),
    sa.ForeignKeyConstraint(['candidate_id'], ['candidates.id'],
                            name=op.f('fk_approved_plans_candidate_id_candidates')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_approved_plans'))
    )
    op.create_index('ix_approved_plans_candidate', 'approved_plans', ['candidate_id', 'id'])
    op.create_table('preview_jobs',
    sa.Column('plan_hash', sa.String(length=64), nullable=False),
    sa.Column('candidate_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('progress', sa.Float(), nullable=False),
    sa.Column('error', sa.Text(), nullable=False),
    sa.Column('plan', sa.JSON(), nullable=False),
    sa.Column('updated_at', _ts(), nullable=False),
    sa.CheckConstraint("status IN ('queued', 'running', 'done', 'failed')",
                       name=op.f('ck_preview_jobs_status')),
    sa.ForeignKeyConstraint(['candidate_id'], ['candidates.id'],
                            name=op.f('fk_preview_jobs_candidate_id_candidates')),
    sa.PrimaryKeyConstraint('plan_hash', name=op.f('pk_preview_jobs'))
    )


def downgrade() -> None:
    op.drop_table('preview_jobs')
    op.drop_index('ix_approved_plans_candidate', table_name='approved_plans')
    op.drop_table('approved_plans')
