"""Lets the emulator's drivers return once a test Application has processed their update."""

from __future__ import annotations

import asyncio

from telegram import Update
from telegram.ext import Application, ContextTypes, TypeHandler

from tests.emulator.server import BotApiEmulator


def settle_on(application: Application, emu: BotApiEmulator) -> None:
    """A last handler group records each processed update id; emu.settle waits for one."""
    processed: set[int] = set()
    changed = asyncio.Condition()

    async def done(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        async with changed:
            processed.add(update.update_id)
            changed.notify_all()

    async def settle(update_id: int) -> None:
        async with changed:
            await asyncio.wait_for(changed.wait_for(lambda: update_id in processed), 5)

    application.add_handler(TypeHandler(Update, done), group=1)
    emu.settle = settle
