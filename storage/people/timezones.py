"""Time zone names customers type (pure): IANA names, or a city as the last part of one."""

from __future__ import annotations

import zoneinfo
from functools import cache

# Cities people type in Chinese that IANA names only in English.
_CHINESE_CITIES = {
    "北京": "Asia/Shanghai",
    "上海": "Asia/Shanghai",
    "广州": "Asia/Shanghai",
    "深圳": "Asia/Shanghai",
    "成都": "Asia/Shanghai",
    "重庆": "Asia/Shanghai",
    "香港": "Asia/Hong_Kong",
    "台北": "Asia/Taipei",
    "澳门": "Asia/Macau",
    "新加坡": "Asia/Singapore",
    "东京": "Asia/Tokyo",
    "首尔": "Asia/Seoul",
    "伦敦": "Europe/London",
    "巴黎": "Europe/Paris",
    "纽约": "America/New_York",
    "洛杉矶": "America/Los_Angeles",
    "悉尼": "Australia/Sydney",
    "莫斯科": "Europe/Moscow",
}
_ALIASES = {"beijing": "Asia/Shanghai", "peking": "Asia/Shanghai"}


@cache
def _index() -> dict[str, str]:
    names = {n for n in zoneinfo.available_timezones() if "/" in n or n == "UTC"}
    index: dict[str, str] = {}
    for name in sorted(names):
        index.setdefault(name.lower(), name)
        city = name.rsplit("/", 1)[-1].lower()
        if name.startswith(("Etc/", "SystemV/", "US/")) or city in index:
            continue
        index[city] = name
    return index


def resolve_timezone(text: str) -> str | None:
    """The IANA name for "Europe/Berlin", "berlin", "New York", "上海"; None when unknown."""
    text = text.strip()
    if not text or len(text) > 64:
        return None
    if text in _CHINESE_CITIES:
        return _CHINESE_CITIES[text]
    key = "_".join(text.split()).lower()
    return _ALIASES.get(key) or _index().get(key)


def is_valid_timezone(name: str) -> bool:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
    return True
