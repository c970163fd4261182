"""The peers the DAL is measured against: naive psycopg and SQLAlchemy 2 (ORM and Core).

SQLAlchemy lives here only, as a benchmark dependency (the `bench` extra).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import psycopg
from sqlalchemy import Engine, MetaData, Table, create_engine
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class OrmUser(Base):
    __tablename__ = "users"
    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    email: Mapped[str]
    username: Mapped[str]
    password_hash: Mapped[str | None]
    display_name: Mapped[str | None]
    preferences: Mapped[dict[str, Any]] = mapped_column(JSONB)
    status: Mapped[str]
    github_id: Mapped[int | None]
    gitlab_id: Mapped[int | None]
    last_login_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


def engine(conninfo: str) -> Engine:
    """An engine whose connections are opened by psycopg from our conninfo."""
    return create_engine(
        "postgresql+psycopg://", creator=lambda: psycopg.connect(conninfo), pool_size=1
    )


def reflected(eng: Engine, name: str) -> Table:
    return Table(name, MetaData(), autoload_with=eng)


class OrmTask(Base):
    __tablename__ = "tasks"
    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    owner_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    project_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    key: Mapped[str | None]
    parent_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    category_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    title: Mapped[str]
    description: Mapped[str | None]
    status: Mapped[str]
    priority: Mapped[str]
    due_at: Mapped[datetime | None]
    data: Mapped[dict[str, Any]] = mapped_column(JSONB)
    version: Mapped[int]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
