#!/usr/bin/env bash
# Install engagebot into .venv and run it (polling on SQLite unless .env / the environment say otherwise).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -e .
.venv/bin/engagebot migrate
exec .venv/bin/engagebot run "$@"
