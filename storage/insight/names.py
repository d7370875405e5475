"""What staff may type for a segment or a level (an audience such as "segment at risk" or "level 重要客户"):
the code, its English name and its Chinese name, compared without case, spaces, hyphens, underscores or
apostrophes. The names shown are the catalogs' (bot/locales/*/insight.toml); a test checks every shown
name is accepted here."""

from __future__ import annotations

from storage.insight import pyramid, rfm

SEGMENT_NAMES: dict[str, tuple[str, ...]] = {
    rfm.CHAMPIONS: ("champions", "champion", "冠军客户", "冠军"),
    rfm.LOYAL: ("loyal", "loyal customers", "忠诚客户", "忠诚"),
    rfm.POTENTIAL: ("potential", "potential loyalists", "potential loyalist", "潜力客户", "潜力"),
    rfm.NEW: ("new", "new customers", "新客户", "新客"),
    rfm.PROMISING: ("promising", "有望客户", "有望"),
    rfm.ATTENTION: ("attention", "need attention", "needs attention", "需要关注", "需关注"),
    rfm.ABOUT_TO_SLEEP: ("about to sleep", "即将沉睡", "即将沉睡客户"),
    rfm.AT_RISK: ("at risk", "有流失风险", "流失风险"),
    rfm.CANT_LOSE: ("can't lose them", "can't lose", "cant lose", "不能失去", "不能失去的客户"),
    rfm.HIBERNATING: ("hibernating", "休眠客户", "休眠"),
    rfm.LOST: ("lost", "流失客户", "已流失"),
}
LEVEL_NAMES: dict[str, tuple[str, ...]] = {
    pyramid.KEY: ("key", "重要客户", "重要"),
    pyramid.MAJOR: ("major", "次要客户", "次要"),
    pyramid.REGULAR: ("regular", "普通客户", "普通"),
    pyramid.SMALL: ("small", "小客户"),
}
assert set(SEGMENT_NAMES) == set(rfm.SEGMENTS) and set(LEVEL_NAMES) == set(pyramid.LEVELS)


def normal(text: str) -> str:
    return "".join(c for c in text.casefold() if c not in " _-'’\t")


def _index(names: dict[str, tuple[str, ...]]) -> dict[str, str]:
    return {normal(alias): code for code, aliases in names.items() for alias in (code, *aliases)}


_SEGMENTS, _LEVELS = _index(SEGMENT_NAMES), _index(LEVEL_NAMES)


def find_segment(text: str) -> str | None:
    return _SEGMENTS.get(normal(text))


def find_level(text: str) -> str | None:
    return _LEVELS.get(normal(text))
