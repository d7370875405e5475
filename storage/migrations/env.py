"""Alembic environment. Runs on the connection handed over by storage.migrate (async engines)."""

from __future__ import annotations

from alembic import context

from storage.schema import metadata

target_metadata = metadata


def run_migrations_online() -> None:
    connection = context.config.attributes["connection"]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported; run `engagebot migrate`")
run_migrations_online()
