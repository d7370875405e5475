from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from storage.clock import FakeClock
from tests.databases import new_database_url
from tests.e2e.harness import Harness
from tests.emulator import BotApiEmulator


@pytest.fixture
async def harness(emu: BotApiEmulator, tmp_path: Path, clock: FakeClock) -> AsyncIterator[Harness]:
    h = Harness(emu, await new_database_url("sqlite", tmp_path), clock)
    await h.start()
    yield h
    await h.stop()
