from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from storage.core.clock import FakeClock
from tests.databases import new_database_url
from tests.e2e.harness import Harness
from tests.emulator import BotApiEmulator


@pytest.fixture
async def harness(
    request: pytest.FixtureRequest, emu: BotApiEmulator, tmp_path: Path, clock: FakeClock
) -> AsyncIterator[Harness]:
    # The harness is strict by default (a Telegram request inside a database transaction fails the
    # update, bot.requests); the strict_transactions mark keeps a file strict if that default changes.
    strict = request.node.get_closest_marker("strict_transactions") is not None
    env = {"STRICT_TRANSACTIONS": "on"} if strict else {}
    for mark in request.node.iter_markers("harness_env"):
        env = {**mark.kwargs, **env}
    h = Harness(emu, await new_database_url("sqlite", tmp_path), clock, **env)
    await h.start()
    yield h
    await h.stop()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The fuzz suite's figures (tests/e2e/test_fuzz.py), when it ran."""
    from tests.e2e.test_fuzz import FIGURES

    if not FIGURES.inputs:
        return
    kinds = ", ".join(f"{kind} {n}" for kind, n in FIGURES.kinds.most_common())
    reached = len(FIGURES.reached)
    terminalreporter.write_line(
        f"fuzz: {FIGURES.inputs} inputs ({kinds}) in {FIGURES.seconds:.0f} s; "
        f"{reached} of {FIGURES.handlers} handlers reached past their guard"
    )
