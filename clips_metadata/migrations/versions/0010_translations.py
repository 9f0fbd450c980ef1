"""Translation (issue 17): translation tracks per candidate version and language, translation
memory entries, the languages each user reads, and the translator role.

Revision ID: 0010
Revises: 0006
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0006'
branch_labels = None
depends_on = None

ROLES_BEFORE = "role IN ('editor', 'reviewer', 'admin')"
ROLES_AFTER = "role IN ('editor', 'reviewer', 'admin', 'translator')"


def _ts() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table('translation_tracks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('candidate_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('language', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('track', sa.JSON(), nullable=False),
    sa.Column('source', sa.JSON(), nullable=False),
    sa.Column('updated_by', sa.String(length=100), nullable=False),
    sa.Column('updated_at', _ts(), nullable=False),
    sa.Column('exported_at', _ts(), nullable=True),
    sa.ForeignKeyConstraint(['candidate_id'], ['candidates.id'],
                            name=op.f('fk_translation_tracks_candidate_id_candidates')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_translation_tracks')),
    sa.UniqueConstraint('candidate_id', 'version', 'language', name='uq_translation_tracks_version_language')
    )
    op.create_table('translation_memory',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('source_language', sa.String(length=20), nullable=False),
    sa.Column('source_text', sa.Text(), nullable=False),
    sa.Column('target_language', sa.String(length=20), nullable=False),
    sa.Column('target_text', sa.Text(), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.String(length=40), nullable=False),
    sa.Column('origin', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_translation_memory')),
    sa.UniqueConstraint('key', name=op.f('uq_translation_memory_key'))
    )
    op.create_index('ix_translation_memory_pair', 'translation_memory',
                    ['source_language', 'target_language'])
    op.create_table('user_languages',
    sa.Column('user_name', sa.String(length=100), nullable=False),
    sa.Column('language', sa.String(length=20), nullable=False),
    sa.PrimaryKeyConstraint('user_name', 'language', name='pk_user_languages')
    )
    with op.batch_alter_table('users') as batch:
        batch.drop_constraint(op.f('ck_users_role'), type_='check')
        batch.create_check_constraint(op.f('ck_users_role'), sa.text(ROLES_AFTER))


def downgrade() -> None:
    op.execute("DELETE FROM users WHERE role = 'translator'")
    with op.batch_alter_table('users') as batch:
        batch.drop_constraint(op.f('ck_users_role'), type_='check')
        batch.create_check_constraint(op.f('ck_users_role'), sa.text(ROLES_BEFORE))
    op.drop_table('user_languages')
    op.drop_index('ix_translation_memory_pair', table_name='translation_memory')
    op.drop_table('translation_memory')
    op.drop_table('translation_tracks')
