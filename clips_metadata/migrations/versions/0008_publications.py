"""Distribution log and consent withdrawal (issue 18): publications, withdrawals, voided
approvals and export authorisations.

Revision ID: 0008
Revises: 0002
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0002'
branch_labels = None
depends_on = None


def _ts() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table('publications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('export_id', sa.Integer(), nullable=False),
    sa.Column('candidate_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('platform', sa.String(length=64), nullable=False),
    sa.Column('url', sa.Text(), nullable=False),
    sa.Column('published_at', sa.String(length=20), nullable=False),
    sa.Column('file_sha256', sa.String(length=64), nullable=False),
    sa.Column('recorded_by', sa.String(length=100), nullable=False),
    sa.Column('created_at', _ts(), nullable=False),
    sa.Column('taken_down_at', sa.String(length=20), nullable=True),
    sa.Column('taken_down_by', sa.String(length=100), nullable=True),
    sa.ForeignKeyConstraint(['export_id'], ['exports.id'], name=op.f('fk_publications_export_id_exports')),
    sa.ForeignKeyConstraint(['candidate_id'], ['candidates.id'],
                            name=op.f('fk_publications_candidate_id_candidates')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_publications'))
    )
    op.create_index('ix_publications_candidate', 'publications', ['candidate_id', 'id'])
    op.create_table('consent_withdrawals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('interviewee_id', sa.Integer(), nullable=False),
    sa.Column('pseudonym', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('narrowed', sa.JSON(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('takedown_files', sa.JSON(), nullable=False),
    sa.Column('created_at', _ts(), nullable=False),
    sa.ForeignKeyConstraint(['interviewee_id'], ['interviewees.id'],
                            name=op.f('fk_consent_withdrawals_interviewee_id_interviewees')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consent_withdrawals'))
    )
    op.create_index(op.f('ix_consent_withdrawals_interviewee_id'), 'consent_withdrawals', ['interviewee_id'])
    op.create_table('consent_voids',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('withdrawal_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('ref_id', sa.Integer(), nullable=False),
    sa.Column('candidate_id', sa.Integer(), nullable=False),
    sa.Column('created_at', _ts(), nullable=False),
    sa.ForeignKeyConstraint(['withdrawal_id'], ['consent_withdrawals.id'],
                            name=op.f('fk_consent_voids_withdrawal_id_consent_withdrawals')),
    sa.ForeignKeyConstraint(['candidate_id'], ['candidates.id'],
                            name=op.f('fk_consent_voids_candidate_id_candidates')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consent_voids')),
    sa.UniqueConstraint('kind', 'ref_id', name='uq_consent_voids_kind_ref')
    )
    op.create_index(op.f('ix_consent_voids_candidate_id'), 'consent_voids', ['candidate_id'])


def downgrade() -> None:
    op.drop_index(op.f('ix_consent_voids_candidate_id'), table_name='consent_voids')
    op.drop_table('consent_voids')
    op.drop_index(op.f('ix_consent_withdrawals_interviewee_id'), table_name='consent_withdrawals')
    op.drop_table('consent_withdrawals')
    op.drop_index('ix_publications_candidate', table_name='publications')
    op.drop_table('publications')
