"""Core records: interviewees with consent, interviews, transcripts, sentences, flags,
credibility warnings, versioned candidates, ingest steps.

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-23

Users, review events and exports come in 0002 (review_store.py), down_revision="0001".
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('interviewees',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('pseudonym', sa.String(length=200), nullable=False),
    sa.Column('real_names', sa.JSON(), nullable=False),
    sa.Column('identifying_words', sa.JSON(), nullable=False),
    sa.Column('is_public', sa.Boolean(), nullable=False),
    sa.Column('consent_face', sa.Boolean(), nullable=False),
    sa.Column('consent_voice', sa.Boolean(), nullable=False),
    sa.Column('consent_name', sa.Boolean(), nullable=False),
    sa.Column('consent_languages', sa.JSON(), nullable=False),
    sa.Column('consent_platforms', sa.JSON(), nullable=False),
    sa.Column('consent_expires', sa.Date(), nullable=True),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_interviewees')),
    sa.UniqueConstraint('pseudonym', name=op.f('uq_interviewees_pseudonym'))
    )
    op.create_table('interviews',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('interviewee_id', sa.Integer(), nullable=False),
    sa.Column('source_path', sa.Text(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('duration', sa.Float(), nullable=False),
    sa.Column('container', sa.String(length=100), nullable=False),
    sa.Column('language', sa.String(length=20), nullable=False),
    sa.Column('recorded', sa.String(length=100), nullable=False),
    sa.Column('place', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('error', sa.Text(), nullable=False),
    sa.Column('replaces_id', sa.Integer(), nullable=True),
    sa.Column('media', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['interviewee_id'], ['interviewees.id'], name=op.f('fk_interviews_interviewee_id_interviewees')),
    sa.ForeignKeyConstraint(['replaces_id'], ['interviews.id'], name=op.f('fk_interviews_replaces_id_interviews')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_interviews')),
    sa.UniqueConstraint('sha256', name=op.f('uq_interviews_sha256'))
    )
    op.create_index(op.f('ix_interviews_interviewee_id'), 'interviews', ['interviewee_id'])

    op.create_table('ingest_steps',
    sa.Column('interview_id', sa.Integer(), nullable=False),
    sa.Column('step', sa.String(length=30), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['interview_id'], ['interviews.id'], name=op.f('fk_ingest_steps_interview_id_interviews')),
    sa.PrimaryKeyConstraint('interview_id', 'step', name='pk_ingest_steps')
    )
    op.create_table('transcripts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('interview_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('backend', sa.String(length=50), nullable=False),
    sa.Column('model', sa.String(length=200), nullable=False),
    sa.Column('language', sa.String(length=20), nullable=False),
    sa.Column('language_probability', sa.Float(), nullable=False),
    sa.Column('duration', sa.Float(), nullable=False),
    sa.Column('body', sa.JSON(), nullable=True),
    sa.Column('body_path', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['interview_id'], ['interviews.id'], name=op.f('fk_transcripts_interview_id_interviews')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_transcripts')),
    sa.UniqueConstraint('interview_id', 'version', name='uq_transcripts_interview_version')
    )
    op.create_index(op.f('ix_transcripts_interview_id'), 'transcripts', ['interview_id'])

    op.create_table('candidates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('interview_id', sa.Integer(), nullable=False),
    sa.Column('transcript_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=30), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('start', sa.Float(), nullable=False),
    sa.Column('end', sa.Float(), nullable=False),
    sa.Column('rank', sa.Float(), nullable=False),
    sa.Column('themes', sa.JSON(), nullable=False),
    sa.Column('risks', sa.JSON(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('updated_by', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['interview_id'], ['interviews.id'], name=op.f('fk_candidates_interview_id_interviews')),
    sa.ForeignKeyConstraint(['transcript_id'], ['transcripts.id'], name=op.f('fk_candidates_transcript_id_transcripts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_candidates'))
    )
    op.create_index(op.f('ix_candidates_interview_id'), 'candidates', ['interview_id'])
    op.create_index('ix_candidates_status_rank', 'candidates', ['status', 'rank'])
    op.create_index('ix_candidates_rank', 'candidates', ['rank'])

    op.create_table('credibility_warnings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('transcript_id', sa.Integer(), nullable=False),
    sa.Column('risk', sa.String(length=100), nullable=False),
    sa.Column('idx', sa.Integer(), nullable=False),
    sa.Column('start', sa.Float(), nullable=False),
    sa.Column('end', sa.Float(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['transcript_id'], ['transcripts.id'], name=op.f('fk_credibility_warnings_transcript_id_transcripts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credibility_warnings'))
    )
    op.create_index(op.f('ix_credibility_warnings_transcript_id'), 'credibility_warnings', ['transcript_id'])

    op.create_table('sentence_flags',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('transcript_id', sa.Integer(), nullable=False),
    sa.Column('idx', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('labels', sa.JSON(), nullable=False),
    sa.Column('scores', sa.JSON(), nullable=False),
    sa.Column('why', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['transcript_id'], ['transcripts.id'], name=op.f('fk_sentence_flags_transcript_id_transcripts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sentence_flags')),
    sa.UniqueConstraint('transcript_id', 'idx', name='uq_sentence_flags_transcript_idx')
    )
    op.create_table('sentences',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('transcript_id', sa.Integer(), nullable=False),
    sa.Column('idx', sa.Integer(), nullable=False),
    sa.Column('start', sa.Float(), nullable=False),
    sa.Column('end', sa.Float(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('language', sa.String(length=20), nullable=False),
    sa.Column('words', sa.JSON(), nullable=False),
    sa.Column('translation', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['transcript_id'], ['transcripts.id'], name=op.f('fk_sentences_transcript_id_transcripts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sentences')),
    sa.UniqueConstraint('transcript_id', 'idx', name='uq_sentences_transcript_idx')
    )
    op.create_table('candidate_labels',
    sa.Column('candidate_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('label', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['candidate_id'], ['candidates.id'], name=op.f('fk_candidate_labels_candidate_id_candidates')),
    sa.PrimaryKeyConstraint('candidate_id', 'kind', 'label', name='pk_candidate_labels')
    )
    op.create_index('ix_candidate_labels_label', 'candidate_labels', ['label', 'kind'])

    op.create_table('candidate_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('candidate_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('start', sa.Float(), nullable=False),
    sa.Column('end', sa.Float(), nullable=False),
    sa.Column('sentence_indices', sa.JSON(), nullable=False),
    sa.Column('subtitles', sa.JSON(), nullable=False),
    sa.Column('translations', sa.JSON(), nullable=False),
    sa.Column('redactions', sa.JSON(), nullable=False),
    sa.Column('render_options', sa.JSON(), nullable=False),
    sa.Column('themes', sa.JSON(), nullable=False),
    sa.Column('risks', sa.JSON(), nullable=False),
    sa.Column('rank', sa.Float(), nullable=False),
    sa.Column('reasons', sa.JSON(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('created_by', sa.String(length=200), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['candidate_id'], ['candidates.id'], name=op.f('fk_candidate_versions_candidate_id_candidates')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_candidate_versions')),
    sa.UniqueConstraint('candidate_id', 'version', name='uq_candidate_versions_candidate_version')
    )


def downgrade() -> None:
    op.drop_table('candidate_versions')
    op.drop_index('ix_candidate_labels_label', table_name='candidate_labels')

    op.drop_table('candidate_labels')
    op.drop_table('sentences')
    op.drop_table('sentence_flags')
    op.drop_index(op.f('ix_credibility_warnings_transcript_id'), table_name='credibility_warnings')

    op.drop_table('credibility_warnings')
    op.drop_index('ix_candidates_rank', table_name='candidates')
    op.drop_index('ix_candidates_status_rank', table_name='candidates')
    op.drop_index(op.f('ix_candidates_interview_id'), table_name='candidates')

    op.drop_table('candidates')
    op.drop_index(op.f('ix_transcripts_interview_id'), table_name='transcripts')

    op.drop_table('transcripts')
    op.drop_table('ingest_steps')
    op.drop_index(op.f('ix_interviews_interviewee_id'), table_name='interviews')

    op.drop_table('interviews')
    op.drop_table('interviewees')
