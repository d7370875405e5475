"""Decide and commit, then talk (issue "Never freeze"): no handler awaits a Telegram request while a
database transaction is open. Read statically from every module in handlers/, so a path no test drives
is checked too (bot.requests.TransactionGuard catches the ones that run):

1. no `await` of a Telegram call lexically inside `async with ... unit_of_work() / read_only() / begin()`;
2. no function with a parameter named `session` (it runs inside someone's unit of work) awaits one.

A Telegram call is a method of python-telegram-bot's (reply_*, answer, edit_*, send_*, delete, copy_*,
forward_*, get_chat_member, set_my_commands), a wrapper in handlers/replies.py, or any handlers function
that awaits one (followed across modules through their imports). Queue the call with
`context.after_commit(call, ...)` instead, or talk once the block has ended.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HANDLERS = ROOT / "handlers"
TELEGRAM_NAMES = {"answer", "delete", "delete_message", "get_chat_member", "set_my_commands"}
TELEGRAM_PREFIXES = ("reply_", "answer_", "edit_", "send_", "copy_", "forward_")
TRANSACTIONS = {"unit_of_work", "read_only", "begin"}
# Modules not converted yet (each an expected failure, strictly: once it passes, its entry must go).
NOT_YET: set[str] = set()


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@dataclass
class Module:
    name: str
    path: Path
    tree: ast.Module
    modules: dict[str, str] = field(default_factory=dict)  # alias → module it names
    names: dict[str, tuple[str, str]] = field(default_factory=dict)  # alias → (module, name) imported
    functions: dict[str, ast.AsyncFunctionDef] = field(default_factory=dict)  # top level and methods


def load(path: Path, source: str | None = None, name: str | None = None) -> Module:
    source = path.read_text() if source is None else source
    module = Module(name or module_name(path), path, ast.parse(source, str(path)))
    for node in ast.walk(module.tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                module.modules[alias.asname or alias.name.split(".")[0]] = alias.name
        elif isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                local = alias.asname or alias.name
                # `from handlers.desk import cards` names a module, `from handlers.replies import edit_text`
                # a function: which one is settled when the call is resolved.
                module.modules[local] = f"{node.module}.{alias.name}"
                module.names[local] = (node.module, alias.name)
        elif isinstance(node, ast.AsyncFunctionDef):
            module.functions.setdefault(node.name, node)
    return module


Modules = dict[str, Module]
Talkers = set[tuple[str, str]]


def _own_body(node: ast.AST) -> Iterator[ast.AST]:
    """The nodes under a function or statement, without the bodies of functions defined inside it (they
    run when called, maybe later)."""
    stack = list(ast.iter_child_nodes(node))
    while stack:
        inner = stack.pop()
        if isinstance(inner, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            continue
        yield inner
        stack.extend(ast.iter_child_nodes(inner))


def _called_name(call: ast.Call) -> str:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""


def _target(modules: Modules, module: Module, call: ast.Call) -> tuple[str, str] | None:
    """The handlers function a call names, as (module, function), when it names one."""
    func = call.func
    if isinstance(func, ast.Name):
        if func.id in module.functions:
            return module.name, func.id
        imported = module.names.get(func.id)
        return imported if imported is not None and imported[0] in modules else None
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
        owner = module.modules.get(func.value.id)
        if owner in modules:
            return owner, func.attr
    return None


def _elsewhere(module: Module, call: ast.Call) -> bool:
    """A call into storage (answers.answer) or a session (session.delete): Telegram's names, not its calls."""
    func = call.func
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
        if "session" in func.value.id:
            return True
        owner = module.modules.get(func.value.id)
        return owner is not None and not owner.startswith(("handlers", "telegram"))
    if isinstance(func, ast.Name) and func.id in module.names:
        return not module.names[func.id][0].startswith(("handlers", "telegram"))
    return False


def _talks(modules: Modules, module: Module, node: ast.AST, talkers: Talkers) -> bool:
    """Whether `node` awaits a Telegram call."""
    if not isinstance(node, ast.Await) or not isinstance(node.value, ast.Call):
        return False
    call = node.value
    target = _target(modules, module, call)
    if target is not None:
        return target in talkers
    name = _called_name(call)
    return not _elsewhere(module, call) and (name in TELEGRAM_NAMES or name.startswith(TELEGRAM_PREFIXES))


def talkers_of(modules: Modules) -> Talkers:
    """The wrappers in handlers/replies.py, and every handlers function that awaits a Telegram call,
    directly or through another such function."""
    talkers = {("handlers.replies", name) for name in modules["handlers.replies"].functions}
    changed = True
    while changed:
        changed = False
        for module in modules.values():
            for name, function in module.functions.items():
                if (module.name, name) not in talkers and any(
                    _talks(modules, module, node, talkers) for node in _own_body(function)
                ):
                    talkers.add((module.name, name))
                    changed = True
    return talkers


def _opens_transaction(node: ast.AsyncWith) -> bool:
    return any(
        isinstance(item.context_expr, ast.Call) and _called_name(item.context_expr) in TRANSACTIONS
        for item in node.items
    )


def _takes_session(function: ast.AsyncFunctionDef) -> bool:
    args = function.args
    return any(a.arg == "session" for a in [*args.posonlyargs, *args.args, *args.kwonlyargs])


def violations(modules: Modules, module: Module, talkers: Talkers) -> list[str]:
    found: dict[int, str] = {}
    for node in ast.walk(module.tree):
        if isinstance(node, ast.AsyncWith) and _opens_transaction(node):
            why, inside = "inside a transaction", [n for s in node.body for n in (s, *_own_body(s))]
        elif isinstance(node, ast.AsyncFunctionDef) and _takes_session(node):
            why, inside = f"{node.name}() takes a session", list(_own_body(node))
        else:
            continue
        for sub in inside:
            if _talks(modules, module, sub, talkers):
                assert isinstance(sub, ast.Await)
                found.setdefault(sub.lineno, f"{why}: await {ast.unparse(sub.value)[:100]}")
    rel = module.path.relative_to(ROOT).as_posix()
    return [f"{rel}:{line}: {what}" for line, what in sorted(found.items())]


MODULES: Modules = {m.name: m for m in map(load, sorted(HANDLERS.rglob("*.py")))}
TALKERS = talkers_of(MODULES)


def _params() -> list[object]:
    params: list[object] = []
    for name, module in MODULES.items():
        rel = module.path.relative_to(ROOT).as_posix()
        marks = []
        if rel in NOT_YET:
            marks.append(pytest.mark.xfail(strict=True, reason="not converted yet"))
        params.append(pytest.param(name, id=rel, marks=marks))
    return params


@pytest.mark.parametrize("name", _params())
def test_no_talk_inside_a_transaction(name: str) -> None:
    assert violations(MODULES, MODULES[name], TALKERS) == []


SAMPLE = """
from handlers.replies import edit_text
from storage.surveys import answers

async def helper(context):
    await context.bot.send_message(1, "x")

async def bad(update, context):
    async with context.unit_of_work() as session:
        await update.effective_message.reply_text("x")
        await edit_text(update.callback_query.message, "x")
        await helper(context)
        await answers.answer(session, "t", 0, "v")
        await session.delete(object())
        context.after_commit(update.effective_message.reply_text, "x")
    await update.effective_message.reply_text("after the block: fine")

async def step(update, context, session, pending):
    await update.callback_query.answer()
    context.after_commit(update.callback_query.answer)
"""


def test_the_check_finds_what_it_should_and_only_that() -> None:
    sample = load(HANDLERS / "customer" / "sample.py", SAMPLE, "handlers.customer.sample")
    modules = {**MODULES, sample.name: sample}
    found = [v.split(":", 1)[1] for v in violations(modules, sample, talkers_of(modules))]
    assert found == [
        "10: inside a transaction: await update.effective_message.reply_text('x')",
        "11: inside a transaction: await edit_text(update.callback_query.message, 'x')",
        "12: inside a transaction: await helper(context)",
        "19: step() takes a session: await update.callback_query.answer()",
    ]
