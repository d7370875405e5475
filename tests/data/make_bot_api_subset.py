"""Derive tests/data/bot_api_subset.json from the Bot API reference in ../shared/telegram-bot-api/api.json.

    python tests/data/make_bot_api_subset.py [path/to/api.json]

The subset holds the METHODS below (parameters, required flags, JSON types, return types) and every type
reachable from them and from Update (fields, required flags, JSON types, subtypes of abstract types), without
descriptions. The emulator in tests/emulator validates requests and responses against it. Re-run the script
after adding a method the bot starts using.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

METHODS = [
    "getMe",
    "getUpdates",
    "setWebhook",
    "deleteWebhook",
    "getWebhookInfo",
    "sendMessage",
    "editMessageText",
    "editMessageReplyMarkup",
    "deleteMessage",
    "answerCallbackQuery",
    "sendPhoto",
    "sendDocument",
    "setMyCommands",
    "deleteMyCommands",
    "getMyCommands",
    "getChatMember",
    "getChat",
    "getFile",
    "sendChatAction",
    "setChatMenuButton",
    "close",
    "logOut",
]
ROOT_TYPES = ["Update"]

REPO = Path(__file__).resolve().parents[2]
DEFAULT_SOURCE = REPO.parent / "shared" / "telegram-bot-api" / "api.json"
TARGET = Path(__file__).resolve().parent / "bot_api_subset.json"


def _type_names(type_strings: list[str]) -> list[str]:
    names = []
    for t in type_strings:
        while t.startswith("Array of "):
            t = t.removeprefix("Array of ")
        names.append(t)
    return names


def _fields(entries: list[dict]) -> list[dict]:
    return [{"name": f["name"], "required": bool(f["required"]), "types": list(f["types"])} for f in entries]


def build(spec: dict) -> dict:
    methods: dict[str, dict] = {}
    pending: list[str] = list(ROOT_TYPES)
    for name in METHODS:
        method = spec["methods"][name]
        params = _fields(method.get("fields", []))
        methods[name] = {"name": name, "params": params, "returns": list(method["returns"])}
        for p in params:
            pending.extend(_type_names(p["types"]))
        pending.extend(_type_names(method["returns"]))

    types: dict[str, dict] = {}
    while pending:
        name = pending.pop()
        if name in types or name not in spec["types"]:
            continue
        source = spec["types"][name]
        entry: dict = {"name": name, "fields": _fields(source.get("fields", []))}
        if source.get("subtypes"):
            entry["subtypes"] = list(source["subtypes"])
            pending.extend(source["subtypes"])
        types[name] = entry
        for f in entry["fields"]:
            pending.extend(_type_names(f["types"]))
    return {"version": spec.get("version", ""), "methods": methods, "types": types}


def main(argv: list[str]) -> None:
    source = Path(argv[1]) if len(argv) > 1 else DEFAULT_SOURCE
    spec = json.loads(source.read_text(encoding="utf-8"))
    subset = build(spec)
    text = json.dumps(subset, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    TARGET.write_text(text, encoding="utf-8")
    print(f"{TARGET}: {len(subset['methods'])} methods, {len(subset['types'])} types ({subset['version']})")


if __name__ == "__main__":
    main(sys.argv)
