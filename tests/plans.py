"""Query plans of the statements a piece of code really sends: record them (with their parameters) while
it runs, then ask the database how it would run each SELECT (EXPLAIN QUERY PLAN on SQLite, EXPLAIN on
PostgreSQL). `full_scans` names the tables a plan reads whole, which a tick with nothing due must not."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.schema import metadata


@dataclass
class Statement:
    sql: str
    parameters: Any
    plan: list[str] = field(default_factory=list)  # one line per plan node, indented by depth
    full_scans: list[str] = field(default_factory=list)  # tables read whole


@contextmanager
def recorded(engine: AsyncEngine) -> Iterator[list[Statement]]:
    """The SELECT statements sent through `engine` inside the block, with their parameters."""
    sent: list[Statement] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            sent.append(Statement(statement, parameters))

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


_SQLITE_SCAN = re.compile(r"^SCAN (\w+)")


def _pg_nodes(node: dict[str, Any], depth: int = 0) -> Iterator[tuple[int, dict[str, Any]]]:
    yield depth, node
    for child in node.get("Plans", []):
        yield from _pg_nodes(child, depth + 1)


def _pg_line(node: dict[str, Any]) -> str:
    line = node["Node Type"]
    if "Index Name" in node:
        line += f" using {node['Index Name']}"
    if "Relation Name" in node:
        line += f" on {node['Relation Name']}"
    for key in ("Index Cond", "Recheck Cond", "Filter", "Join Filter", "Hash Cond"):
        if key in node:
            line += f"  {key}: {node[key]}"
    return line


def _pg_full_scan(node: dict[str, Any]) -> str | None:
    """The table a node reads whole: a sequential scan, or an index scan without an index condition
    (every entry of the index, in its order)."""
    kind = node["Node Type"]
    if kind == "Seq Scan":
        return str(node["Relation Name"])
    if kind in ("Index Scan", "Index Only Scan") and "Index Cond" not in node:
        return str(node["Relation Name"])
    return None


def _literal(value: Any) -> str:
    if value is None:
        return "NULL"
    text = value.isoformat() if isinstance(value, datetime) else str(value)
    return "'" + text.replace("'", "''") + "'"  # an untyped literal: EXECUTE casts it to the parameter's type


async def _pg_plan(driver: Any, statement: Statement, generic: bool) -> dict[str, Any]:
    """The plan PostgreSQL makes with the parameters' values (custom) or without them (generic: what a
    prepared statement, as asyncpg's cache keeps them, may switch to after five executions)."""
    if not generic:
        document = await driver.fetchval(f"EXPLAIN (FORMAT JSON) {statement.sql}", *statement.parameters)
    else:
        await driver.execute(f"PREPARE engagebot_plan AS {statement.sql}")
        try:
            await driver.execute("SET plan_cache_mode = force_generic_plan")
            arguments = ", ".join(_literal(value) for value in statement.parameters)
            execute = f"EXECUTE engagebot_plan({arguments})" if arguments else "EXECUTE engagebot_plan"
            document = await driver.fetchval(f"EXPLAIN (FORMAT JSON) {execute}")
        finally:
            await driver.execute("DEALLOCATE engagebot_plan; RESET plan_cache_mode")
    plan: dict[str, Any] = (json.loads(document) if isinstance(document, str) else document)[0]["Plan"]
    return plan


async def explain(
    engine: AsyncEngine, statements: list[Statement], *, generic: bool = False
) -> list[Statement]:
    """The statements with their plans and the tables they read whole. PostgreSQL: the custom plan, or
    with `generic` the generic one; SQLite plans without the values anyway."""
    explained = [Statement(s.sql, s.parameters) for s in statements]
    async with engine.connect() as conn:
        for statement in explained:
            if engine.dialect.name == "sqlite":
                result = await conn.exec_driver_sql(
                    f"EXPLAIN QUERY PLAN {statement.sql}", statement.parameters
                )
                depth: dict[int, int] = {0: -1}
                for node_id, parent, _, detail in result.all():
                    depth[node_id] = depth.get(parent, -1) + 1
                    statement.plan.append("  " * depth[node_id] + detail)
                    if (match := _SQLITE_SCAN.match(detail)) and match[1] in metadata.tables:
                        statement.full_scans.append(match[1])  # a table (not a subquery's result)
                await conn.rollback()
            else:
                raw = await conn.get_raw_connection()
                tree = await _pg_plan(raw.driver_connection, statement, generic)
                for level, node in _pg_nodes(tree):
                    statement.plan.append("  " * level + _pg_line(node))
                    if (table := _pg_full_scan(node)) is not None:
                        statement.full_scans.append(table)
    return explained


def describe(statements: list[Statement]) -> str:
    """The statements and their plans, for a report or an assertion message."""
    return "\n\n".join(
        " ".join(s.sql.split()) + "\n" + "\n".join("    " + line for line in s.plan) for s in statements
    )
