"""The fuzz suite: generated inputs from customers, strangers, a former staff member and staff of every
role, driving the real Application through the Bot API emulator (which computes bot_command entities
as Telegram does and rejects what Telegram would reject).

Each input is checked as it happens: nothing unhandled is logged, no reply shows a traceback, nobody
changes state their role may not change, no message carries personal data to someone who may not see
it; after each batch the ledger's invariants hold. ENGAGEBOT_FUZZ_INPUTS sets how many inputs a run
makes (CI: the default, 10,000, in a fixed sequence; elsewhere random, or --hypothesis-seed=N); the
figures are printed in pytest's summary.
"""

from __future__ import annotations

import logging
import os
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from telegram.ext import CallbackQueryHandler, CommandHandler

from handlers.authority import Guarded
from handlers.customer.member_card import qr_png
from storage.people.staff import Role
from tests.e2e.harness import Harness
from tests.e2e.invariants import admin_only_state, changed, customer_ids, ledger_problems, staff_only_state
from tests.e2e.loyalty_steps import join
from tests.emulator import UserDriver
from tests.emulator.driver import GroupChat

INPUTS = int(os.environ.get("ENGAGEBOT_FUZZ_INPUTS", "10000"))
PER_BATCH = 10  # inputs per generated example (hypothesis keeps each example's data small)
LIMIT = 4096  # what a Telegram client lets a person send in one message
PHONE, BIRTHDAY = "+4915799887766", "1987-11-23"
PERSONAL = (PHONE, "4915799887766", BIRTHDAY, "23.11.1987", "23 November 1987", "1987年11月23日")

COMMANDS = [
    "start", "help", "profile", "language", "skip", "points", "invite", "rewards", "myrewards", "survey",
    "feedback", "cancel", "find", "staff", "promote", "demote", "purchase", "award", "deduct", "fulfil",
    "reward", "stats", "callback", "callbacks", "followup", "followups", "outbox", "import", "export",
    "note", "tag", "privacy", "erase", "audit", "owner", "campaign", "setup", "pints", "fnd", "nosuchcommand",
]  # fmt: skip
MEMBER_CODE = "K7M2QX9"  # a member code's form (whether anyone has it is the lookup's business)
SUFFIXES = ["", "-", ",", ".x", "@engage_test_bot", "@other_bot", "@ENGAGE_TEST_BOT"]
HOSTILE = [
    "0", "-1", "²", "١٢", "99999999999999999999999", "1e9", "1.5", "NaN", "inf", "-0", "007",
    "0001-01-01 00:00", "9999-12-31 23:59", "tomorrow 10:00", "in 2h", "#1", "#2", "#0",
    "#99999999999999999999", "@kimmy", "@", PHONE, "4915799887766", "5678", "0151 2345678",
    "<b>x</b>", "&amp;", "</i>", "a" * 300, "添加", "add Coffee | 10", "add T | 5 | stock 1",
    "#1 vip -vip", "delete 1", "#1 likes <b>tea</b>", "refused 30d", "by @alice", "purchase 99999d",
    "reassign @alice none", "#1 me",
    "edit 1 | 3", "disable 1", "stock 1 5", "list", "new f csat", "new g nps", "activate f",
    "close f", "general f", "send f all", "send f tier gold", "surveys", "surveys 30d", "surveys 999999d",
    "ABCD-1234", "ABCDE-23456", "\u200b", "\n", "x\ny", "customers", "purchases", "ledger", "points",
    # At the counter: member codes, deep links, names and phones written in parts (issue 13).
    "K7M2QX9", "k7m2-qx9", "m_K7M2QX9", "m_", "m_\u200b", '"Kim Lee" 12.50', "“Kim", "Kim 12.50",
    "Kim Lee 5 x", "0151 2345678 5 12.50", "+49 151 23456785 3", "(030) 1234567 9", "17/05/1990",
    "May 17, 1990", "5月17日", "friday 15:00", "周五 15:00", "下周一 10:00",
    "new spring | all | <b>Hi</b> | 你好 | offer 1", "new x | tier gold | <i>a",
    "new y | #1 | a | holdout 99",
    "preview spring", "preview nosuch", "report spring", "report", "new | | |",
    "activate hello", "stop hello", "repeat autumn yearly lunar 8-15", "repeat hello welcome 99999h",
    "repeat autumn yearly 2-30", "activate autumn", "stop nosuch",
    # Time zones: cities, abbreviations and offsets that are confirmed with buttons (issue 13).
    "慕尼黑", "Munich", "CST", "GMT+1", "UTC+08:00", "+8", "东八区", "Etc/GMT-1", "Europe/Berlin", "Portland",
    "new z | all | a | at 10:00", "new w | all | a | at 2026-99-99 25:61",
    "new v | all | a | at 1999-01-01 10",
    "image autumn", "image autumn off", "image nosuch off", "image",
]  # fmt: skip
# What a /import document holds: good, bad and personal-data rows (a phone is only matched by admins).
IMPORT_FILE = f"customer,date,amount\n@kimmy,2026-01-05,12.50\n{PHONE},2026-01-06,3\n#9,x,1\n".encode()
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + (40).to_bytes(4, "big") + (30).to_bytes(4, "big") + b"rest"
NUMBERS = ["²", "١٢", "-1", "0", "1", "2", "99999999999999999999999", "1e3", " 1", "1:2"]
FORGED_PREFIXES = [
    "b:", "fc:claim:", "fc:resolve:", "fc:callback:", "fc:followup:", "fc:x:", "sv:", "pts:", "rw:",
    "consent:yes:", "consent:no", "lang:", "profile:", "profile:rm:", "profile:rm!:", "profile:card",
    "step:skip", "pg:cb:", "pg:rw:", "pg:st:", "pg:sv:",
    "pg:fb:", "pg:", "pg:xx:", "pg:tl1:", "pg:tl0:", "tl:", "cs:1:", "cs:", "sa:1:", "sa:",
    "bulk:stop:", "bulk:pause:", "bulk:resume:", "bulk:", "staffgroup:use", "staffgroup:", "cp:", "cpv:",
    "pf:stop", "pf:offers:off", "pf:surveys:on", "pf:", "tz:", "tz:?", "tz:Europe/Berlin", "tz:Etc/GMT-1",
    "tz:../", "",
]  # fmt: skip


@dataclass
class Figures:
    inputs: int = 0
    kinds: Counter[str] = field(default_factory=Counter)
    reached: Counter[str] = field(default_factory=Counter)
    handlers: int = 0
    seconds: float = 0.0


FIGURES = Figures()


class Errors(logging.Handler):
    """Every record at ERROR or above: an unhandled exception in a handler is logged there."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@dataclass
class Actor:
    name: str
    person: UserDriver
    chat: GroupChat | None  # where they write (None: their private chat)
    role: Role | None  # their staff role, None for customers, strangers and former staff
    own_data: tuple[str, ...] = ()  # personal data they may see of themselves

    @property
    def sees_personal_data(self) -> bool:
        return self.role is not None and self.role >= Role.ADMIN


def _fit(text: str) -> str:
    """What a client would send: at most 4,096 characters, and never only white space."""
    text = text[:LIMIT]
    return text if text.strip() else "x"


CHARS = st.characters(exclude_categories=("Cs", "Cc"))


def _text() -> st.SearchStrategy[str]:
    # Long texts repeat a short generated piece: hypothesis keeps each example's data small.
    long = st.builds(
        lambda piece, n: (piece * n)[:n], st.text(CHARS, min_size=1, max_size=8), st.integers(1000, LIMIT)
    )
    return st.one_of(st.sampled_from(HOSTILE), st.text(CHARS, max_size=40), long).map(_fit)


def _command() -> st.SearchStrategy[str]:
    args = st.lists(_text(), max_size=3).map(" ".join)
    return st.builds(
        lambda name, suffix, upper, rest: _fit(f"/{name.upper() if upper else name}{suffix} {rest}".strip()),
        st.sampled_from(COMMANDS),
        st.sampled_from(SUFFIXES),
        st.booleans(),
        args,
    )


def _forged() -> st.SearchStrategy[str]:
    numbers = st.sampled_from(NUMBERS)  # what a forged button most likely carries where an id belongs
    tail = st.one_of(
        numbers, st.sampled_from(HOSTILE), st.integers(-(2**70), 2**70).map(str), st.text(max_size=30)
    )
    return st.builds(lambda p, t: p + t, st.sampled_from(FORGED_PREFIXES), tail).filter(
        lambda d: 1 <= len(d.encode()) <= 64
    )


ACTION = st.one_of(
    st.tuples(st.just("text"), _text()),
    st.tuples(st.just("command"), _command()),
    st.tuples(st.just("press"), st.integers(0, 10_000)),
    # The staff group is public: anyone can see its messages and press their buttons (Telegram allows it).
    st.tuples(st.just("press_staff_group"), st.integers(0, 10_000)),
    st.tuples(st.just("forged"), _forged()),
    st.tuples(st.just("forged_staff_group"), _forged()),
    st.tuples(st.just("contact"), st.sampled_from([None, PHONE, "+1 202 555 0100", "12"])),
    # A location: Munich, the open sea, the poles and the date line (the time zone step looks it up).
    st.tuples(
        st.just("location"), st.sampled_from([(48.137, 11.576), (0.0, -30.0), (-90.0, 180.0), (90.0, -180.0)])
    ),
    st.tuples(
        st.just("document"),
        st.sampled_from(
            [
                "/survey",
                "/survey@engage_test_bot",
                "",
                "/award #1 5 x",
                "/import",
                "/import points",
                "/import x",
            ]
        ),
    ),
    # A photo: a member's QR code (/find), a campaign's image, or not a picture at all.
    st.tuples(
        st.just("photo"),
        st.sampled_from(
            [
                "/find",
                "/find@engage_test_bot",
                "/award #1 5",
                "/campaign image autumn",
                "/campaign image nosuch",
                "/campaign",
                "/campaign image",
                "",
            ]
        ),
    ),
    st.tuples(st.just("edit"), _command()),
    st.tuples(st.just("duplicate"), st.just("")),
)


async def _cast(harness: Harness) -> list[Actor]:
    kim = harness.customer(301, "Kim", username="kimmy")
    await harness.join(kim)
    await kim.send("/profile")
    await kim.press(harness.t("en", "profile.edit_birthday"))
    await kim.send(BIRTHDAY)
    await kim.press(harness.t("en", "profile.edit_phone"))
    await kim.share_contact(PHONE)
    lee = harness.customer(302, "Lee", language_code="zh")
    await join(harness, lee, lang="zh")
    await harness.grant_admin()
    group = harness.staff_group
    await harness.owner.send("/reward add Coffee | 10", chat=group)
    await harness.owner.send("/award #1 50 welcome", chat=group)
    await harness.owner.send("/survey new f csat", chat=group)
    await harness.owner.send("/survey activate f", chat=group)
    await harness.owner.send("/campaign new autumn | all | <b>Autumn</b> | 秋季 | offer 1", chat=group)
    await harness.owner.send("/campaign new hello | all | Welcome | offer 1", chat=group)
    await harness.owner.send("/campaign repeat hello welcome 1h", chat=group)
    # A send on its way (tomorrow at 10:00 in each zone): its progress message offers Pause and Stop.
    await harness.owner.send("/campaign new later | all | Later | at 10:00", chat=group)
    await harness.owner.send("/campaign preview later", chat=group)
    await harness.owner.press("✅ Confirm", chat=group)
    former = harness.customer(9004, "Fred", username="fred")
    await former.send("/staff", chat=group)  # an agent once
    await group.leave(former)
    harness.emu.state.chats[group.chat_id].chat["username"] = "staffroom"  # public: anyone may look
    other = harness.emu.group(-100777, "Neighbours")
    # The owner adds the bot there too: "Use this group for staff" is on offer to anyone who looks.
    other.set_member(harness.owner.user_id, "creator")
    await other.add_bot(harness.owner)
    return [
        Actor("customer", kim, None, None, own_data=(PHONE, "4915799887766", BIRTHDAY)),
        Actor("customer", lee, None, None),
        Actor("stranger", harness.customer(303, "Trudy"), None, None),
        Actor("stranger", harness.customer(304, "Mallory"), other, None),
        Actor("former staff", former, None, None),
        Actor("agent", harness.agent, group, Role.AGENT),
        Actor("admin", harness.admin, group, Role.ADMIN),
        Actor("owner", harness.owner, group, Role.OWNER),
    ]


def _count_handlers(harness: Harness) -> int:
    """Wrap every declared handler so the run can say which ones inputs reached (past their guard)."""
    assert harness.app is not None
    handlers = [h for group in harness.app.handlers.values() for h in group]
    for handler in handlers:
        guarded: Guarded = handler.callback
        inner, name = guarded.callback, f"{type(handler).__name__}:{guarded.action}"

        async def counted(update: Any, context: Any, inner: Any = inner, name: str = name) -> None:
            FIGURES.reached[name] += 1
            await inner(update, context)

        guarded.callback = counted
    return len(handlers)


class Run:
    def __init__(self, harness: Harness, actors: list[Actor], errors: Errors) -> None:
        self.harness, self.actors, self.errors = harness, actors, errors
        self.sent: dict[str, list[dict[str, Any]]] = {}

    def _seen(self) -> dict[int, set[int]]:
        return {cid: set(chat.messages) for cid, chat in self.harness.emu.state.chats.items()}

    async def act(self, actor: Actor, kind: str, value: Any) -> None:
        person, chat = actor.person, actor.chat
        if kind == "text":
            self._remember(actor, await person.send(value, chat=chat))
        elif kind == "command":
            self._remember(actor, await person.send(value, chat=chat))
        elif kind in ("press", "press_staff_group"):
            where = self.harness.staff_group if kind == "press_staff_group" else chat
            messages = [m for m in person.messages(where) if m.buttons]
            if messages and self.harness.staff_group.status(person) != "kicked":
                message = messages[value % len(messages)]
                labels = [label for row in message.buttons for label in row if label in message.button_data]
                if labels:
                    await person.press(labels[value % len(labels)], message)
        elif kind in ("forged", "forged_staff_group"):
            messages = person.messages(self.harness.staff_group if kind == "forged_staff_group" else chat)
            if messages and self.harness.staff_group.status(person) != "kicked":
                await person.press_data(value, messages[-1])
        elif kind == "contact":  # None: their own contact (a number of their own); else someone else's
            if chat is None and value is None:
                await person.share_contact(f"+49170{person.user_id:07d}")
            elif chat is None:
                await person.share_contact(value, user_id=1)
        elif (
            kind == "location"
        ):  # with the share-location button where one is shown, else the attachment menu
            keyboard = person.keyboard(chat) if chat is None else None
            await person.share_location(
                *value, via_button=bool(keyboard and keyboard.request_location), chat=chat
            )
        elif kind == "document" and value.startswith("/import"):
            await person.send_document("history.csv", IMPORT_FILE, value, chat)
        elif kind == "document":
            await person.send_document("survey.json", b'{"name": "z", "questions": []}', value or None, chat)
        elif kind == "photo":
            picture = (
                qr_png(f"https://t.me/engage_test_bot?start=m_{MEMBER_CODE}") if value == "/find" else PNG
            )
            await person.send_photo(picture, value or None, chat)
        elif kind in ("edit", "duplicate"):
            earlier = self.sent.get(actor.person.user.get("username") or str(person.user_id), [])
            if not earlier:
                return
            update = earlier[-1]
            update_kind = next(k for k in update if k != "update_id")
            message = update[update_kind]
            if kind == "edit" and message.get("text", message.get("caption")) != value:
                self._remember(actor, await person.edit(update, value))
            elif kind == "duplicate":  # Telegram delivers at least once: the same message again
                await self.harness.emu.deliver(update_kind, message)

    def _remember(self, actor: Actor, raw: dict[str, Any]) -> None:
        key = actor.person.user.get("username") or str(actor.person.user_id)
        self.sent.setdefault(key, []).append(raw)
        del self.sent[key][:-5]

    async def check(self, actor: Actor, kind: str, value: Any) -> None:
        sessions = self.harness.sessions
        guarded_state = admin_only_state if actor.role == Role.AGENT else staff_only_state
        before = await guarded_state(sessions) if actor.role is None or actor.role == Role.AGENT else None
        # A customer may change rows of their own (erasing their data, reopening their complaint).
        acting = await customer_ids(sessions, actor.person.user_id) if actor.role is None else set()
        seen = self._seen()
        await self.act(actor, kind, value)
        FIGURES.inputs += 1
        FIGURES.kinds[kind] += 1
        where = f"{actor.name} {actor.person.user_id} {kind} {value!r:.200}"
        assert not self.errors.records, (where, [r.getMessage() for r in self.errors.records])
        for chat_id, chat in self.harness.emu.state.chats.items():
            for message_id in set(chat.messages) - seen.get(chat_id, set()):
                stored = chat.messages[message_id]
                if not stored.from_bot:
                    continue
                text = stored.raw.get("text", stored.raw.get("caption", ""))
                assert "Traceback" not in text, where
                own_chat = chat_id == actor.person.user_id
                allowed = actor.sees_personal_data or (own_chat and actor.own_data)
                # What they just typed, echoed in their own chat ("unknown time zone “…”"), leaks nothing.
                typed = str(value) if own_chat else ""
                if not allowed:
                    assert not any(p in text and p not in typed for p in PERSONAL), (where, text[:300])
        if before is not None:
            assert changed(before, await guarded_state(sessions), acting) == [], where


@pytest.fixture
def errors() -> Any:
    handler = Errors()
    logging.getLogger().addHandler(handler)
    yield handler
    logging.getLogger().removeHandler(handler)


@settings(
    max_examples=max(1, INPUTS // PER_BATCH),
    deadline=None,
    database=None,
    # CI runs a fixed sequence, so a submission's result can be reproduced; elsewhere every run explores anew.
    derandomize=os.environ.get("CI") == "true",
    phases=[Phase.generate],  # the bot's state carries over between batches: shrinking would mislead
    suppress_health_check=list(HealthCheck),
)
@given(batch=st.lists(st.tuples(st.integers(0, 7), ACTION), min_size=PER_BATCH, max_size=PER_BATCH))
async def test_fuzz(harness: Harness, errors: Errors, batch: list[tuple[int, tuple[str, Any]]]) -> None:
    run = harness.__dict__.get("_fuzz")
    if run is None:
        started = time.monotonic()
        run = Run(harness, await _cast(harness), errors)
        FIGURES.handlers = _count_handlers(harness)
        harness.__dict__["_fuzz"] = run
        FIGURES.seconds -= time.monotonic() - started
    started = time.monotonic()
    for who, (kind, value) in batch:
        await run.check(run.actors[who], kind, value)
    assert await ledger_problems(harness.sessions) == []
    FIGURES.seconds += time.monotonic() - started


async def test_the_fuzz_reaches_every_command_and_button(harness: Harness) -> None:
    """A command or button added without a place in the fuzz suite fails here."""
    assert harness.app is not None
    handlers = [h for group in harness.app.handlers.values() for h in group]
    commands = {c for h in handlers if isinstance(h, CommandHandler) for c in h.commands}
    assert commands <= set(COMMANDS), commands - set(COMMANDS)
    patterns = [h.pattern for h in handlers if isinstance(h, CallbackQueryHandler) and h.pattern is not None]
    unforged = [
        p.pattern for p in patterns if not any(p.match(f) or p.match(f + "1") for f in FORGED_PREFIXES)
    ]
    assert unforged == []
