"""Long sends show a chat action first: "typing…" while /stats reads its figures, "sending a photo…"
before a chart or a member's first QR code, "sending a file…" before an export. Each action comes
before the message it announces (the emulator notes the chat's newest message id at the time)."""

from __future__ import annotations

import pytest

from tests.e2e.harness import Harness
from tests.e2e.loyalty_steps import join

pytestmark = pytest.mark.strict_transactions


def _actions(harness: Harness, chat_id: int) -> list[tuple[str, int]]:
    return [(action, count) for chat, action, count in harness.emu.state.chat_actions if chat == chat_id]


async def test_stats_shows_typing_then_uploading_each_chart(harness: Harness) -> None:
    group = harness.staff_group
    before = len(group.messages())
    await harness.agent.send("/stats customers 12m", chat=group)
    sent = group.messages()[before:]
    photos = [m for m in sent if m.photo is not None]
    assert len(photos) == 2
    actions = _actions(harness, group.chat_id)
    assert [a for a, _ in actions] == ["typing", "upload_photo", "upload_photo"]
    # Each upload_photo came before its photo, after the one before.
    previous = sent[0].message_id  # the figures' text
    for (action, newest), photo in zip(actions[1:], photos, strict=True):
        assert previous <= newest < photo.message_id, action
        previous = photo.message_id


async def test_a_members_first_qr_code_is_announced(harness: Harness) -> None:
    ann = harness.customer(811, "Ann")
    await join(harness, ann)
    await ann.send("/points")
    assert ("upload_photo" in [a for a, _ in _actions(harness, 811)]) and ann.last().photo is not None
    count = len(_actions(harness, 811))
    await ann.send("/points")  # the QR again, by Telegram's file_id: no upload, no action
    assert len(_actions(harness, 811)) == count


async def test_an_export_is_announced_as_a_file(harness: Harness) -> None:
    group = harness.staff_group
    await harness.owner.send("/export customers", chat=group)
    await harness.tick("bulk")
    assert harness.owner.last(chat=group).document is not None
    assert "upload_document" in [a for a, _ in _actions(harness, group.chat_id)]
