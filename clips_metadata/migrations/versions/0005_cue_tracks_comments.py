"""Editor workstation: cue tracks per version and language, waveform peaks, timecoded comments.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def _ts() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table('cue_tracks',
    sa.Column('candidate_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('language', sa.String(length=12), nullable=False),
    sa.Column('track', sa.JSON(), nullable=False),
    sa.Column('hashed', sa.Boolean(), nullable=False),
    sa.Column('created_at', _ts(), nullable=False),
    sa.ForeignKeyConstraint(['candidate_id'], ['candidates.id'], name=op.f('fk_cue_tracks_candidate_id_candidates')),
    sa.PrimaryKeyConstraint('candidate_id', 'version', 'language', name='pk_cue_tracks')
    )
    op.create_table('waveforms',
    sa.Column('source_sha256', sa.String(length=64), nullable=False),
    sa.Column('peaks', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', _ts(), nullable=False),
    sa.PrimaryKeyConstraint('source_sha256', name=op.f('pk_waveforms'))
    )
    op.create_table('candidate_comments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('candidate_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('author', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('start', sa.Float(), nullable=False),
    sa.Column('end', sa.Float(), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('resolved_by', sa.String(length=100), nullable=False),
    sa.Column('resolved_at', _ts(), nullable=True),
    sa.Column('created_at', _ts(), nullable=False),
    sa.ForeignKeyConstraint(['candidate_id'], ['candidates.id'],
                            name=op.f('fk_candidate_comments_candidate_id_candidates')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_candidate_comments'))
    )
    op.create_index(op.f('ix_candidate_comments_candidate_id'), 'candidate_comments', ['candidate_id'])


def downgrade() -> None:
    op.drop_index(op.f('ix_candidate_comments_candidate_id'), table_name='candidate_comments')
    op.drop_table('candidate_comments')
    op.drop_table('waveforms')
    op.drop_table('cue_tracks')
