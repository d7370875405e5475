#!/usr/bin/env bash
# Install engagebot with its test dependencies into .venv, start a throwaway PostgreSQL (installing it
# from Debian's packages if needed), lint, type-check, check the import contracts, and run the whole test suite on SQLite and PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -e '.[test]'
if [ -z "${ENGAGEBOT_TEST_POSTGRES_URL:-}" ]; then
  if pg_env=$(scripts/postgres.sh); then
    eval "$pg_env"
  else
    echo "PostgreSQL could not be started: PostgreSQL tests will be skipped" >&2
  fi
fi
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy  # strict for storage/ and jobs/ (pyproject.toml [tool.mypy])
.venv/bin/lint-imports --no-cache  # the architecture's contracts (pyproject.toml [tool.importlinter])
.venv/bin/python -m pytest "$@"
