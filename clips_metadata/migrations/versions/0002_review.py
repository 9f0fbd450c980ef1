"""Review: users, the append-only audit log of review events, approvals bound to a version
hash, and exports.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23

`review_events` refuses UPDATE and DELETE with database triggers (SQLite and PostgreSQL), so the
audit log stays append-only even for code that bypasses `review_store`.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def _ts() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('password_hash', sa.Text(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', _ts(), nullable=False),
    sa.CheckConstraint("role IN ('editor', 'reviewer', 'admin')", name=op.f('ck_users_role')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('name', name=op.f('uq_users_name'))
    )
    op.create_table('review_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('candidate_id', sa.Integer(), nullable=False),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('action', sa.String(length=30), nullable=False),
    sa.Column('from_state', sa.String(length=30), nullable=False),
    sa.Column('to_state', sa.String(length=30), nullable=False),
    sa.Column('from_version', sa.Integer(), nullable=True),
    sa.Column('to_version', sa.Integer(), nullable=True),
    sa.Column('version_hash', sa.String(length=64), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('acknowledged_risks', sa.JSON(), nullable=False),
    sa.Column('created_at', _ts(), nullable=False),
    sa.ForeignKeyConstraint(['candidate_id'], ['candidates.id'],
                            name=op.f('fk_review_events_candidate_id_candidates')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_review_events'))
    )
    op.create_index('ix_review_events_candidate', 'review_events', ['candidate_id', 'id'])
    op.create_table('approvals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('candidate_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('version_hash', sa.String(length=64), nullable=False),
    sa.Column('reviewer', sa.String(length=100), nullable=False),
    sa.Column('acknowledged_risks', sa.JSON(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('created_at', _ts(), nullable=False),
    sa.ForeignKeyConstraint(['candidate_id'], ['candidates.id'],
                            name=op.f('fk_approvals_candidate_id_candidates')),
    sa.ForeignKeyConstraint(['event_id'], ['review_events.id'],
                            name=op.f('fk_approvals_event_id_review_events')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_approvals')),
    # one approval per reviewer per version: a double submit cannot count twice
    sa.UniqueConstraint('candidate_id', 'version', 'reviewer', name='uq_approvals_candidate_version_reviewer')
    )
    op.create_table('exports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('candidate_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('version_hash', sa.String(length=64), nullable=False),
    sa.Column('profile', sa.String(length=30), nullable=False),
    sa.Column('language', sa.String(length=20), nullable=False),
    sa.Column('paths', sa.JSON(), nullable=False),
    sa.Column('output_sha256', sa.String(length=64), nullable=False),
    sa.Column('manifest_path', sa.Text(), nullable=False),
    sa.Column('authorisation', sa.JSON(), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('created_at', _ts(), nullable=False),
    sa.ForeignKeyConstraint(['candidate_id'], ['candidates.id'],
                            name=op.f('fk_exports_candidate_id_candidates')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exports'))
    )
    op.create_index('ix_exports_candidate', 'exports', ['candidate_id'])

    dialect = op.get_bind().dialect.name
    if dialect == 'sqlite':
        for verb in ('UPDATE', 'DELETE'):
            op.execute(
                f"CREATE TRIGGER review_events_no_{verb.lower()} BEFORE {verb} ON review_events "
                "BEGIN SELECT RAISE(ABORT, 'review events are append-only'); END"
            )
    elif dialect == 'postgresql':
        op.execute(
            "CREATE FUNCTION review_events_append_only() RETURNS trigger AS $$ "
            "BEGIN RAISE EXCEPTION 'review events are append-only'; END; $$ LANGUAGE plpgsql"
        )
        op.execute(
            "CREATE TRIGGER review_events_append_only BEFORE UPDATE OR DELETE ON review_events "
            "FOR EACH ROW EXECUTE FUNCTION review_events_append_only()"
        )


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == 'sqlite':
        op.execute("DROP TRIGGER IF EXISTS review_events_no_update")
        op.execute("DROP TRIGGER IF EXISTS review_events_no_delete")
    elif dialect == 'postgresql':
        op.execute("DROP TRIGGER IF EXISTS review_events_append_only ON review_events")
        op.execute("DROP FUNCTION IF EXISTS review_events_append_only()")
    op.drop_index('ix_exports_candidate', table_name='exports')
    op.drop_table('exports')
    op.drop_table('approvals')
    op.drop_index('ix_review_events_candidate', table_name='review_events')
    op.drop_table('review_events')
    op.drop_table('users')
