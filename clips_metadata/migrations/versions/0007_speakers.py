"""Speakers: who speaks in an interview and which speaker is the interviewee (issue 16).

Revision ID: 0007
Revises: 0004
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('interview_speakers',
    sa.Column('interview_id', sa.Integer(), nullable=False),
    sa.Column('transcript_id', sa.Integer(), nullable=False),
    sa.Column('interviewee', sa.String(length=20), nullable=True),
    sa.Column('interviewer_first', sa.Boolean(), nullable=False),
    sa.Column('speakers', sa.JSON(), nullable=False),
    sa.Column('model', sa.String(length=200), nullable=False),
    sa.Column('updated_by', sa.String(length=200), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['interview_id'], ['interviews.id'],
                            name=op.f('fk_interview_speakers_interview_id_interviews')),
    sa.ForeignKeyConstraint(['transcript_id'], ['transcripts.id'],
                            name=op.f('fk_interview_speakers_transcript_id_transcripts')),
    sa.PrimaryKeyConstraint('interview_id', name=op.f('pk_interview_speakers'))
    )


def downgrade() -> None:
    op.drop_table('interview_speakers')
