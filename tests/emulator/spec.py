"""The Bot API subset (tests/data/bot_api_subset.json) and validation of requests and objects against it.

Requests: the method exists, every required parameter is present, no unknown parameter, each value has one
of the parameter's JSON types (form fields arrive as strings and are decoded the way Telegram does).
Objects (what the emulator returns or delivers): required fields present, no unknown field, JSON types right,
recursively; abstract types (ChatMember, BotCommandScope, ...) must match one of their subtypes.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

SUBSET_PATH = Path(__file__).resolve().parents[1] / "data" / "bot_api_subset.json"

# Subtypes whose discriminator value is not the snake_case of the name suffix.
_DISCRIMINATORS = {"ChatMemberOwner": "creator", "ChatMemberBanned": "kicked"}
_INT = re.compile(r"^-?\d+$")
# python-telegram-bot's Defaults (parse_mode, ...) are added to every method sent through Bot._send_message,
# e.g. editMessageReplyMarkup gets parse_mode; Telegram ignores unknown parameters, so these are dropped
# (and listed in `ignored`) instead of rejected.
PTB_DEFAULTS = frozenset({"parse_mode", "disable_notification", "protect_content", "link_preview_options"})


@dataclass
class UploadedFile:
    """A file part of a multipart request (an InputFile)."""

    filename: str
    data: bytes
    content_type: str = "application/octet-stream"


@dataclass
class Spec:
    methods: dict[str, dict[str, Any]]
    types: dict[str, dict[str, Any]]
    version: str

    def method(self, name: str) -> dict[str, Any] | None:
        return self.methods.get(name) or self._lower().get(name.lower())

    def _lower(self) -> dict[str, dict[str, Any]]:
        return {k.lower(): v for k, v in self.methods.items()}

    # ---- requests -------------------------------------------------------------------------------------
    def decode_params(
        self,
        method: dict[str, Any],
        raw: dict[str, Any],
        files: dict[str, UploadedFile],
        ignored: list[tuple[str, str]] | None = None,
    ) -> tuple[dict[str, Any], list[str]]:
        """Decode form strings to JSON values by the parameters' types; return (params, problems)."""
        problems: list[str] = []
        declared = {p["name"]: p for p in method["params"]}
        params: dict[str, Any] = {}
        for name, value in raw.items():
            param = declared.get(name)
            if param is None:
                if name in files and isinstance(value, UploadedFile):
                    continue  # a file part referenced with attach://name
                if name in PTB_DEFAULTS:
                    if ignored is not None:
                        ignored.append((method["name"], name))
                    continue
                problems.append(f"unknown parameter {name!r}")
                continue
            try:
                params[name] = _decode(value, param["types"], files)
            except ValueError as exc:
                problems.append(f"can't parse parameter {name!r}: {exc}")
        for name, param in declared.items():
            if param["required"] and name not in params and not any(name in p for p in problems):
                problems.append(f"parameter {name!r} is required")
            elif name in params:
                problems.extend(self.check_value(params[name], param["types"], name))
        return params, problems

    # ---- objects --------------------------------------------------------------------------------------
    def check_value(self, value: Any, types: list[str], where: str) -> list[str]:
        """Problems of value against a field's list of alternative types (empty when one matches)."""
        best: list[str] | None = None
        for t in types:
            problems = self._check_one(value, t, where)
            if not problems:
                return []
            if best is None or len(problems) < len(best):
                best = problems
        if len(types) > 1 and best and all(_is_shallow(p, where) for p in best):
            return [f"{where}: expected {' or '.join(types)}, got {_describe(value)}"]
        return best or []

    def check_object(self, value: Any, type_name: str, where: str | None = None) -> list[str]:
        return self._check_one(value, type_name, where or type_name)

    def _check_one(self, value: Any, t: str, where: str) -> list[str]:
        if t.startswith("Array of "):
            if not isinstance(value, list):
                return [f"{where}: expected {t}, got {_describe(value)}"]
            inner = t.removeprefix("Array of ")
            out: list[str] = []
            for i, item in enumerate(value):
                out.extend(self._check_one(item, inner, f"{where}[{i}]"))
            return out
        scalar = _check_scalar(value, t)
        if scalar is not None:
            return [] if scalar else [f"{where}: expected {t}, got {_describe(value)}"]
        if t == "InputFile":
            return [] if isinstance(value, UploadedFile) else [f"{where}: expected an uploaded file"]
        spec = self.types.get(t)
        if spec is None:
            return [
                f"{where}: type {t} is not in bot_api_subset.json (re-run tests/data/make_bot_api_subset.py)"
            ]
        if not isinstance(value, dict):
            return [f"{where}: expected {t} object, got {_describe(value)}"]
        if spec.get("subtypes"):
            return self._check_abstract(value, t, spec["subtypes"], where)
        return self._check_fields(value, t, spec, where)

    def _check_fields(self, value: dict[str, Any], t: str, spec: dict[str, Any], where: str) -> list[str]:
        fields = {f["name"]: f for f in spec["fields"]}
        out = [f"{where}: unknown field {k!r} in {t}" for k in value if k not in fields]
        for name, field in fields.items():
            if name not in value:
                if field["required"]:
                    out.append(f"{where}: required field {name!r} of {t} is missing")
                continue
            out.extend(self.check_value(value[name], field["types"], f"{where}.{name}"))
        return out

    def _check_abstract(self, value: dict[str, Any], t: str, subtypes: list[str], where: str) -> list[str]:
        best: list[str] | None = None
        for sub in subtypes:
            sub_spec = self.types.get(sub)
            if sub_spec is None:
                continue
            expected = discriminator(t, sub)
            key = next(
                (f["name"] for f in sub_spec["fields"] if f["name"] in ("type", "status", "source")), None
            )
            if key and key in value and value[key] != expected:
                continue
            problems = self._check_fields(value, sub, sub_spec, where)
            if not problems:
                return []
            if best is None or len(problems) < len(best):
                best = problems
        return best or [f"{where}: {_describe(value)} matches none of {t}'s subtypes {subtypes}"]

    def fill_required(self, type_name: str, **given: Any) -> dict[str, Any]:
        """An object of type_name with `given` fields, required booleans False, numbers 0, strings "",
        required nested objects filled the same way (used for ChatFullInfo, ChatMember*, getMe's User)."""
        out = dict(given)
        for field in self.types[type_name]["fields"]:
            if not field["required"] or field["name"] in out:
                continue
            t = field["types"][0]
            if t == "Boolean":
                out[field["name"]] = False
            elif t in ("Integer", "Float"):
                out[field["name"]] = 0
            elif t == "String":
                out[field["name"]] = ""
            elif t.startswith("Array of "):
                out[field["name"]] = []
            elif t in self.types:
                out[field["name"]] = self.fill_required(t)
        return out


def discriminator(parent: str, sub: str) -> str:
    if sub in _DISCRIMINATORS:
        return _DISCRIMINATORS[sub]
    suffix = sub.removeprefix(parent)
    return re.sub(r"(?<!^)(?=[A-Z])", "_", suffix).lower()


def _check_scalar(value: Any, t: str) -> bool | None:
    if t == "Integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if t == "Float":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if t == "Boolean":
        return isinstance(value, bool)
    if t == "True":
        return value is True
    if t == "String":
        return isinstance(value, str)
    return None


def _is_shallow(problem: str, where: str) -> bool:
    return problem.startswith(f"{where}: expected")


def _describe(value: Any) -> str:
    text = (
        json.dumps(value, ensure_ascii=False, default=repr) if not isinstance(value, UploadedFile) else "file"
    )
    return f"{type(value).__name__} {text[:80]}"


def _decode(value: Any, types: list[str], files: dict[str, UploadedFile]) -> Any:
    """A request value as Telegram reads it: form fields are strings, JSON unless the type is String."""
    if isinstance(value, UploadedFile):
        return value
    if not isinstance(value, str):
        return value  # from a JSON body
    if "InputFile" in types and value.startswith("attach://"):
        name = value.removeprefix("attach://")
        if name not in files:
            raise ValueError(f"no file part named {name!r}")
        return files[name]
    if "String" in types:
        if "Integer" in types and _INT.match(value):
            return int(value)
        return value
    if value in ("True", "False"):
        return value == "True"
    try:
        return json.loads(value)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON: {value[:60]!r}") from exc


@cache
def load_spec(path: Path = SUBSET_PATH) -> Spec:
    data = json.loads(path.read_text(encoding="utf-8"))
    return Spec(data["methods"], data["types"], data.get("version", ""))
