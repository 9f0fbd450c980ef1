"""Label corrections: reviewers' dismissed and added flags (issue 15), and the model version on
every stored flag.

Revision ID: 0006
Revises: 0008
Create Date: 2026-12-03

`label_corrections` refuses UPDATE and DELETE with database triggers, like `review_events`: a
correction is an audit record; a later one supersedes it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('sentence_flags') as batch:
        batch.add_column(sa.Column('model_version', sa.String(length=100), server_default='', nullable=False))
    op.create_table('label_corrections',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('candidate_id', sa.Integer(), nullable=True),
    sa.Column('transcript_id', sa.Integer(), nullable=True),
    sa.Column('sentence_idx', sa.Integer(), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('language', sa.String(length=20), nullable=False),
    sa.Column('added', sa.JSON(), nullable=False),
    sa.Column('removed', sa.JSON(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('model_version', sa.String(length=100), nullable=False),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['candidate_id'], ['candidates.id'],
                            name=op.f('fk_label_corrections_candidate_id_candidates')),
    sa.ForeignKeyConstraint(['transcript_id'], ['transcripts.id'],
                            name=op.f('fk_label_corrections_transcript_id_transcripts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_label_corrections'))
    )
    op.create_index('ix_label_corrections_transcript', 'label_corrections', ['transcript_id', 'sentence_idx'])
    dialect = op.get_bind().dialect.name
    if dialect == 'sqlite':
        for verb in ('UPDATE', 'DELETE'):
            op.execute(
                f"CREATE TRIGGER label_corrections_no_{verb.lower()} BEFORE {verb} ON label_corrections "
                "BEGIN SELECT RAISE(ABORT, 'label corrections are append-only'); END"
            )
    elif dialect == 'postgresql':
        op.execute(
            "CREATE FUNCTION label_corrections_append_only() RETURNS trigger AS $$ "
            "BEGIN RAISE EXCEPTION 'label corrections are append-only'; END; $$ LANGUAGE plpgsql"
        )
        op.execute(
            "CREATE TRIGGER label_corrections_append_only BEFORE UPDATE OR DELETE ON label_corrections "
            "FOR EACH ROW EXECUTE FUNCTION label_corrections_append_only()"
        )


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == 'sqlite':
        op.execute("DROP TRIGGER IF EXISTS label_corrections_no_update")
        op.execute("DROP TRIGGER IF EXISTS label_corrections_no_delete")
    elif dialect == 'postgresql':
        op.execute("DROP TRIGGER IF EXISTS label_corrections_append_only ON label_corrections")
        op.execute("DROP FUNCTION IF EXISTS label_corrections_append_only()")
    op.drop_index('ix_label_corrections_transcript', table_name='label_corrections')
    op.drop_table('label_corrections')
    with op.batch_alter_table('sentence_flags') as batch:
        batch.drop_column('model_version')
