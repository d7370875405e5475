"""Every text exists in every language, with the same placeholders and every plural form its language
needs, and every key the code names exists."""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot import formatting
from bot.i18n import FORMATS, PARAM_BUDGET, Catalog, Markup, format_specs, load, placeholders, plurals

ROOT = Path(__file__).resolve().parents[2]
# Table definitions name columns ("surveys.id"), never texts.
CODE = [
    p
    for d in ("bot", "handlers", "jobs", "storage")
    for p in (ROOT / d).rglob("*.py")
    if p.name != "models.py"
]


def _placeholders(template: str) -> set[str]:
    return placeholders(template)


def test_every_language_has_every_key_with_the_same_placeholders() -> None:
    catalogs = load()
    assert set(catalogs) == {"en", "zh"}
    reference = catalogs["en"]
    for language, texts in catalogs.items():
        assert set(texts) == set(reference), f"{language}: missing {set(reference) - set(texts)}"
        for key, template in texts.items():
            assert _placeholders(template) == _placeholders(reference[key]), f"{language}:{key}"


def test_every_plural_has_exactly_the_forms_its_language_tells_apart() -> None:
    for language, texts in load().items():
        needed = formatting.plural_forms(language)
        for key, template in texts.items():
            for plural in plurals(template):
                assert set(plural.forms) == needed, f"{language}:{key} {plural.name}: {sorted(plural.forms)}"
                assert all("#{" not in form for form in plural.forms.values()), f"{language}:{key}"


def test_a_plural_missing_a_form_fails_the_check() -> None:
    (plural,) = plurals("{n, plural, other {# points}}")
    assert set(plural.forms) != formatting.plural_forms("en")  # English also needs "one"
    assert set(plural.forms) == formatting.plural_forms("zh")
    with pytest.raises(ValueError):
        plurals("{n, plural, one {# point} other")


def test_plurals_numbers_and_money_follow_the_language() -> None:
    catalog = Catalog(
        {
            "en": {"a.t": "{n, plural, one {<b>#</b> point} other {<b>#</b> points}} for {amount:money}"},
            "zh": {"a.t": "<b>{n:number}</b> 积分，{amount:money}"},
        },
        currency="EUR",
    )
    assert catalog("en", "a.t", n=1, amount="1234.5") == "<b>1</b> point for €1,234.50"
    assert catalog("en", "a.t", n=0, amount=3) == "<b>0</b> points for €3.00"
    assert catalog("en", "a.t", n="12345", amount="-2") == "<b>12,345</b> points for -€2.00"
    assert catalog("zh", "a.t", n=12345, amount="1234.5") == "<b>12,345</b> 积分，€1,234.50"
    assert Catalog(catalog.catalogs)("en", "a.t", n=2, amount="1234.5") == "<b>2</b> points for 1,234.50"


def test_every_text_asks_only_for_formats_the_catalog_knows() -> None:
    for language, texts in load().items():
        for key, template in texts.items():
            assert format_specs(template) <= FORMATS, f"{language}:{key}: {format_specs(template) - FORMATS}"


def test_an_unknown_format_fails_the_checks() -> None:
    template = "{n, plural, one {due {when:dat}} other {due {when:date}}}"
    assert format_specs(template) - FORMATS == {"dat"}  # the check above finds it, even inside a plural
    with pytest.raises(ValueError):
        Catalog({"en": {"a.t": "due {when:dat}"}})("en", "a.t", when=date(2026, 3, 10))


def test_dates_and_moments_follow_the_language() -> None:
    catalog = Catalog(
        {"en": {"a.t": "{day:date} · {at:datetime}"}, "zh": {"a.t": "{day:date}，{at:datetime}"}}
    )
    at = datetime(2026, 3, 10, 14, 5, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert catalog("en", "a.t", day="2026-03-10", at=at) == "10 Mar 2026 · 10 Mar 2026, 14:05"
    assert catalog("zh", "a.t", day=date(2026, 3, 10), at=at) == "2026年3月10日，2026年3月10日 14:05"
    assert catalog("en", "a.t", day="—", at="<none>") == "— · &lt;none&gt;"  # passed through, escaped


def test_every_key_named_in_the_code_exists() -> None:
    catalog = Catalog.load()
    areas = "|".join(sorted({key.split(".")[0] for key in catalog.catalogs["en"]}))
    literal = re.compile(rf"""["']@?((?:{areas})\.[a-z0-9_.]+)["']""")
    missing = {
        f"{path.relative_to(ROOT)}: {key}"
        for path in CODE
        for key in literal.findall(path.read_text(encoding="utf-8"))
        if not catalog.has(key) and not key.endswith(".")
    }
    assert not missing, f"texts named in code but absent from the catalogs: {sorted(missing)}"


def test_a_missing_key_fails_loudly() -> None:
    catalog = Catalog({"en": {"a.b": "x"}, "zh": {}})
    assert not catalog.has("a.b")
    with pytest.raises(KeyError):
        catalog("zh", "a.b")


def test_parameters_are_escaped_unless_marked_safe() -> None:
    catalog = Catalog({"en": {"a.hi": "<b>Hi {name}</b> {extra}"}})
    text = catalog("en", "a.hi", name="<b>Tom & Jerry</b> 🐱", extra=Markup("<i>ok</i>"))
    assert text == "<b>Hi &lt;b&gt;Tom &amp; Jerry&lt;/b&gt; 🐱</b> <i>ok</i>"


def test_every_text_is_html_telegram_accepts() -> None:
    from tests.emulator.html_entities import EntityParseError, parse_html

    catalog = Catalog.load(currency="EUR")
    for language, texts in catalog.catalogs.items():
        for key, template in texts.items():
            if key.startswith("commands."):  # menu descriptions: plain text for setMyCommands
                continue
            sample = catalog(language, key, **{name: 2 for name in _placeholders(template)})  # 2: any format
            try:
                parse_html(sample)
            except EntityParseError as error:
                pytest.fail(f"{language}:{key} is not valid Telegram HTML: {error}")


def test_a_long_parameter_is_cut_to_its_budget_before_escaping() -> None:
    catalog = Catalog({"en": {"a.echo": "<b>No match for {query}</b>"}})
    text = catalog("en", "a.echo", query="&" * (PARAM_BUDGET + 500))
    assert text == "<b>No match for " + "&amp;" * (PARAM_BUDGET - 1) + "…</b>"  # never half an entity
    assert catalog("en", "a.echo", query="中文<&>") == "<b>No match for 中文&lt;&amp;&gt;</b>"
    assert catalog("en", "a.echo", query="x" * PARAM_BUDGET).count("x") == PARAM_BUDGET  # at budget: whole


def test_a_caller_may_allow_a_longer_parameter_or_none_at_all() -> None:
    catalog = Catalog({"en": {"a.part": "{text}"}})
    long = "字" * 5000
    assert catalog("en", "a.part", text=long, budget=None) == long
    assert catalog("en", "a.part", text=long, budget=3000) == "字" * 2999 + "…"
    assert catalog("en", "a.part", text="ab", budget=1) == "…"


def test_no_template_uses_the_budget_keyword_as_a_placeholder() -> None:
    for texts in load().values():
        assert all("budget" not in _placeholders(template) for template in texts.values())
