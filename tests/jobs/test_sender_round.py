"""The sender's round (per-chat queues in two heaps) hands out rows in the order the plain scan did:
at each moment, the first row in claim order whose chat the limiter lets through."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from jobs.sender import Limiter, _Round
from storage.core.config import SenderConfig
from storage.people.outbox import Claimed
from tests.jobs.fakes import VirtualTime

CHATS = [1, 2, 3, 4, -10, -11]


def _rows(chats: list[int]) -> list[Claimed]:
    return [Claimed(i, chat, None, "t", {}, "en", None, 1) for i, chat in enumerate(chats)]


def _limiter(
    rate: float, group_per_minute: int, history: list[tuple[int, float]]
) -> tuple[Limiter, VirtualTime]:
    vt = VirtualTime()
    limiter = Limiter(SenderConfig(rate_per_second=rate, group_per_minute=group_per_minute), vt)
    limiter.seed(sorted(history, key=lambda item: -item[1]))
    return limiter, vt


def _scan(rows: list[Claimed], limiter: Limiter, vt: VirtualTime) -> list[tuple[int, float]]:
    """The sender before the heaps: scan the batch for the first ready row, O(n) per row."""
    pending, sent = list(rows), []
    while pending:
        now = vt()
        row = next((r for r in pending if limiter.chat_ready_at(r.chat_id, now=now) <= now), None)
        if row is None:
            vt.now += max(min(limiter.chat_ready_at(r.chat_id, now=now) for r in pending) - now, 0.001)
            continue
        pending.remove(row)
        vt.now += max(limiter.reserve(row.chat_id), 0.0)
        sent.append((row.id, vt.now))
    return sent


def _heaps(rows: list[Claimed], limiter: Limiter, vt: VirtualTime) -> list[tuple[int, float]]:
    pending, sent = _Round(rows, limiter), []
    while pending.left:
        now = vt()
        row = pending.take(now)
        if row is None:
            vt.now += max(pending.soonest() - now, 0.001)
            continue
        vt.now += max(limiter.reserve(row.chat_id), 0.0)
        sent.append((row.id, vt.now))
    return sent


@settings(max_examples=300, deadline=None)
@given(
    chats=st.lists(st.sampled_from(CHATS), max_size=60),
    rate=st.sampled_from([5.0, 25.0, 1000.0]),
    group_per_minute=st.integers(1, 5),
    history=st.lists(st.tuples(st.sampled_from(CHATS), st.floats(0.0, 59.0)), max_size=8),
)
def test_the_heaps_send_in_the_order_and_at_the_times_the_scan_did(
    chats: list[int], rate: float, group_per_minute: int, history: list[tuple[int, float]]
) -> None:
    rows = _rows(chats)
    expected = _scan(rows, *_limiter(rate, group_per_minute, history))
    assert _heaps(rows, *_limiter(rate, group_per_minute, history)) == expected


def test_forgetting_the_past_changes_no_decision() -> None:
    limiter, vt = _limiter(25.0, 2, [(1, 0.5), (-10, 30.0), (-10, 59.5), (2, 10.0)])
    before = {chat: limiter.chat_ready_at(chat, extra) for chat in CHATS for extra in range(3)}
    limiter.forget_past()
    assert set(limiter.private_next) == {1}  # chat 2 was free again; chat 1 not yet
    assert set(limiter.group_sent) == {-10}
    assert {chat: limiter.chat_ready_at(chat, extra) for chat in CHATS for extra in range(3)} == before
    vt.now += 61.0
    limiter.forget_past()
    assert limiter.private_next == {} and limiter.group_sent == {}
