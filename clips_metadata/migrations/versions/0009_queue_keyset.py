"""Queue indexes for keyset pagination: (rank, id) and (status, rank, id) replace (rank) and
(status, rank), so a queue page on PostgreSQL reads only the rows it shows (SQLite's indexes
already ended in the rowid).

Revision ID: 0009
Revises: 0007
Create Date: 2026-12-03
"""

from __future__ import annotations

from alembic import op

revision = '0009'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_candidates_rank_id', 'candidates', ['rank', 'id'])
    op.create_index('ix_candidates_status_rank_id', 'candidates', ['status', 'rank', 'id'])
    op.drop_index('ix_candidates_rank', table_name='candidates')
    op.drop_index('ix_candidates_status_rank', table_name='candidates')


def downgrade() -> None:
    op.create_index('ix_candidates_status_rank', 'candidates', ['status', 'rank'])
    op.create_index('ix_candidates_rank', 'candidates', ['rank'])
    op.drop_index('ix_candidates_status_rank_id', table_name='candidates')
    op.drop_index('ix_candidates_rank_id', table_name='candidates')
