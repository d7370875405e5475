"""The `engagebot` command as a business owner meets it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _run(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        cwd=cwd,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_without_a_token_it_explains_how_to_get_one(tmp_path: Path) -> None:
    result = _run(["run"], tmp_path, {})
    assert result.returncode == 2
    assert "@BotFather" in result.stderr and "TELEGRAM_BOT_TOKEN" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_migrate_creates_the_database(tmp_path: Path) -> None:
    result = _run(["migrate"], tmp_path, {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"})
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "x.db").exists()


def test_help_lists_the_commands(tmp_path: Path) -> None:
    result = _run(["--help"], tmp_path, {})
    assert result.returncode == 0
    assert "run" in result.stdout and "migrate" in result.stdout
