"""Accounts: server-side review sessions and the login-failure throttle.

Revision ID: 0003
Revises: 0004
Create Date: 2026-12-03

Sessions live in the database so logout, disabling a user and a password change end them at once
(an old cookie then finds no row). Failed password checks are stored too, so the throttle holds
across processes: the web app and every `counterclips review ...` command count together.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0005'
branch_labels = None
depends_on = None


def _ts() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table('sessions',
    sa.Column('id_hash', sa.String(length=64), nullable=False),
    sa.Column('user_name', sa.String(length=100), nullable=True),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('created_at', _ts(), nullable=False),
    sa.Column('last_seen', _ts(), nullable=False),
    sa.Column('expires_at', _ts(), nullable=False),
    sa.PrimaryKeyConstraint('id_hash', name=op.f('pk_sessions'))
    )
    op.create_index('ix_sessions_user_name', 'sessions', ['user_name'])
    op.create_index('ix_sessions_expires_at', 'sessions', ['expires_at'])
    op.create_table('login_failures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_name', sa.String(length=100), nullable=False),
    sa.Column('failed_at', _ts(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_failures'))
    )
    op.create_index('ix_login_failures_user_name', 'login_failures', ['user_name', 'failed_at'])


def downgrade() -> None:
    op.drop_index('ix_login_failures_user_name', table_name='login_failures')
    op.drop_table('login_failures')
    op.drop_index('ix_sessions_expires_at', table_name='sessions')
    op.drop_index('ix_sessions_user_name', table_name='sessions')
    op.drop_table('sessions')
