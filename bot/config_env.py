"""Business settings from the environment (nested in storage.config.Config): loyalty, surveys, the
sender, birthdays and follow-ups. See .env.example."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import replace
from decimal import Decimal, InvalidOperation

from storage.care import cadences
from storage.core import inputs
from storage.core.config import (
    LANGUAGES,
    LEAP_DAY_RULES,
    BirthdayConfig,
    BulkConfig,
    CadenceConfig,
    ComplaintConfig,
    ContactConfig,
    FollowUpConfig,
    InsightConfig,
    LoyaltyConfig,
    RecurringConfig,
    SenderConfig,
    SurveyConfig,
    Tier,
    WinbackConfig,
)

log = logging.getLogger(__name__)


class SettingsError(ValueError):
    """A setting is missing or malformed; the message is meant for the person running the bot."""


def renamed(env: Mapping[str, str], key: str, old: str) -> str:
    """The name to read a renamed setting under: `key`, or `old` while only that one is set, so a
    shop that set it before the rename keeps its value."""
    if env.get(key, "").strip():
        if env.get(old, "").strip():
            log.warning("%s is ignored: %s is set (%s is its old name)", old, key, old)
        return key
    if env.get(old, "").strip():
        log.warning("%s is deprecated; call it %s (the old name still works for now)", old, key)
        return old
    return key


def _count(
    env: Mapping[str, str],
    key: str,
    default: int | None,
    low: int = 0,
    high: int = 10**9,
    never: bool = False,
) -> int | None:
    """A whole number in [low, high]; with `never`, "never"/"none"/"0" mean None (no limit)."""
    value = env.get(key, "").strip().lower()
    if not value:
        return default
    if never and value in {"never", "none", "0"}:
        return None
    number = inputs.int_or_none(value, low=low, high=high)
    if number is None:
        extra = ' or "never"' if never else ""
        raise SettingsError(f"{key} must be a whole number from {low} to {high}{extra}, not {value!r}.")
    return number


def retention_days(env: Mapping[str, str]) -> int | None:
    """RETENTION_DAYS: erase customers neither seen nor buying for this many days (30-36500); empty or
    "never": off (the default)."""
    return _count(env, "RETENTION_DAYS", None, 30, 36500, never=True)


def survey_config(env: Mapping[str, str]) -> SurveyConfig:
    defaults = SurveyConfig()
    return SurveyConfig(
        throttle_days=_count(env, "SURVEY_THROTTLE_DAYS", defaults.throttle_days, 0, 3650),
        expire_days=_count(env, "SURVEY_EXPIRE_DAYS", defaults.expire_days, 1, 365),
        reward_points=_count(env, "SURVEY_REWARD_POINTS", defaults.reward_points, 0, 1_000_000),
        followup_hours=_count(
            env,
            renamed(env, "FEEDBACK_FOLLOWUP_HOURS", "FEEDBACK_CALLBACK_HOURS"),
            defaults.followup_hours,
            1,
            24 * 60,
        ),
        nps_detractor_max=_count(env, "NPS_DETRACTOR_MAX", defaults.nps_detractor_max, 0, 10),
        csat_detractor_max=_count(env, "CSAT_DETRACTOR_MAX", defaults.csat_detractor_max, 1, 5),
        purchase_survey=env.get("PURCHASE_SURVEY", "").strip().lower(),
        after_purchase_hours=_count(
            env, "SURVEY_AFTER_PURCHASE_HOURS", defaults.after_purchase_hours, 0, 24 * 365
        ),
    )


def env_switch(env: Mapping[str, str], key: str, default: bool) -> bool:
    value = env.get(key, "").strip().lower()
    if not value:
        return default
    if value in {"on", "true", "yes", "1"}:
        return True
    if value in {"off", "false", "no", "0"}:
        return False
    raise SettingsError(f"{key} must be on or off, not {value!r}.")


def _decimal(env: Mapping[str, str], key: str, default: Decimal) -> Decimal:
    value = env.get(key, "").strip()
    if not value:
        return default
    try:
        number = Decimal(value)
    except InvalidOperation:
        number = Decimal(-1)
    if not number.is_finite() or number <= 0:
        raise SettingsError(f"{key} must be a positive number such as 1 or 0.5, not {value!r}.")
    return number


def _tiers(env: Mapping[str, str], key: str, default: tuple[Tier, ...]) -> tuple[Tier, ...]:
    """ "Member:0:1, Silver:500:1.25, Gold:2000:1.5" (name:points earned in the window:multiplier)."""
    value = env.get(key, "").strip()
    if not value:
        return default
    tiers = []
    for part in (p.strip() for p in value.split(",") if p.strip()):
        name, _, rest = part.partition(":")
        threshold, _, multiplier = rest.partition(":")
        try:
            tiers.append(Tier(name.strip(), int(threshold), Decimal(multiplier)))
        except (ValueError, InvalidOperation):
            raise SettingsError(
                f"{key}: {part!r} should look like Silver:500:1.25 (name:points:multiplier)."
            ) from None
    if not tiers or tiers[0].threshold != 0 or any(not t.name for t in tiers):
        raise SettingsError(f"{key}: the first tier must start at 0 points, e.g. Member:0:1,Silver:500:1.25.")
    if [t.threshold for t in tiers] != sorted({t.threshold for t in tiers}):
        raise SettingsError(f"{key}: tier thresholds must go up, e.g. Member:0:1,Silver:500:1.25.")
    return tuple(tiers)


TIER_NAMES = {"en": "LOYALTY_TIER_NAMES_EN", "zh": "LOYALTY_TIER_NAMES_ZH"}  # one per language


def _tier_names(env: Mapping[str, str], tiers: tuple[Tier, ...]) -> tuple[Tier, ...]:
    """LOYALTY_TIER_NAMES_ZH="Member:会员, Gold:金卡" (and _EN, …): a tier's name in that language,
    by the name LOYALTY_TIERS gives it; a language not given keeps the names the tier has."""
    by_name = {t.name.lower(): dict(t.names) for t in tiers}
    for language in LANGUAGES:
        key = TIER_NAMES[language]
        value = env.get(key, "").strip()
        if not value:
            continue
        for names in by_name.values():
            names.pop(language, None)
        for part in (p.strip() for p in value.split(",") if p.strip()):
            name, _, translated = (x.strip() for x in part.partition(":"))
            if name.lower() not in by_name or not translated or len(translated) > 32:
                known = ", ".join(t.name for t in tiers)
                raise SettingsError(
                    f"{key}: {part!r} should be a tier of LOYALTY_TIERS ({known}) and its name in "
                    f"{language} (at most 32 characters), e.g. {tiers[-1].name}:…"
                )
            by_name[name.lower()][language] = translated
    return tuple(replace(t, names=tuple(sorted(by_name[t.name.lower()].items()))) for t in tiers)


def loyalty_from_env(env: Mapping[str, str]) -> LoyaltyConfig:
    d = LoyaltyConfig()
    return LoyaltyConfig(
        points_per_currency=_decimal(env, "LOYALTY_POINTS_PER_CURRENCY", d.points_per_currency),
        tiers=_tier_names(env, _tiers(env, "LOYALTY_TIERS", d.tiers)),
        tier_window_months=_count(env, "LOYALTY_TIER_WINDOW_MONTHS", d.tier_window_months) or 12,
        expiry_months=_count(env, "LOYALTY_EXPIRY_MONTHS", d.expiry_months, never=True),
        referral_bonus=_count(env, "LOYALTY_REFERRAL_BONUS", d.referral_bonus) or 0,
        award_max=_count(env, "LOYALTY_AWARD_MAX", d.award_max) or d.award_max,
        purchase_max=_decimal(env, "LOYALTY_PURCHASE_MAX", d.purchase_max),
        voucher_days=_count(env, "LOYALTY_VOUCHER_DAYS", d.voucher_days, never=True),
        expiry_warning_days=_count(env, "LOYALTY_EXPIRY_WARNING_DAYS", d.expiry_warning_days, 0, 365) or 0,
    )


def env_number(env: Mapping[str, str], key: str, default: float, low: float, high: float) -> float:
    raw = env.get(key, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{key} must be a number, not {raw!r}.") from None
    if not low <= value <= high:
        raise SettingsError(f"{key} must be between {low:g} and {high:g}, not {raw}.")
    return value


def _clock_time(env: Mapping[str, str], key: str, default: tuple[int, int]) -> tuple[int, int]:
    raw = env.get(key, "").strip()
    if not raw:
        return default
    hour, _, minute = raw.partition(":")
    h, m = inputs.int_or_none(hour, low=0, high=23), inputs.int_or_none(minute, low=0, high=59)
    if h is not None and m is not None:
        return h, m
    raise SettingsError(f"{key} must be a time of day like 10:00, not {raw!r}.")


def sender_from_env(env: Mapping[str, str]) -> SenderConfig:
    return SenderConfig(rate_per_second=env_number(env, "SEND_RATE", 25.0, 0.1, 1000.0))


def bulk_from_env(env: Mapping[str, str]) -> BulkConfig:
    """Bulk jobs: customers per batch (one short transaction each), batches per tick, and how often a
    job's staff message may be edited."""
    d = BulkConfig()
    return BulkConfig(
        batch=_count(env, "BULK_BATCH", d.batch, 1, 1000) or d.batch,
        batches_per_tick=_count(env, "BULK_BATCHES_PER_TICK", d.batches_per_tick, 1, 1000)
        or d.batches_per_tick,
        report_seconds=env_number(env, "BULK_REPORT_SECONDS", d.report_seconds, 1, 3600),
    )


def birthdays_from_env(env: Mapping[str, str]) -> BirthdayConfig:
    """Birthday greetings: local time, bonus, the 29 February rule, the staff digest time."""
    hour, minute = _clock_time(env, "BIRTHDAY_TIME", (10, 0))
    digest_hour, _ = _clock_time(env, "BIRTHDAY_DIGEST_TIME", (9, 0))
    leap = env.get("BIRTHDAY_LEAP_DAY", "").strip().lower() or "feb28"
    if leap not in LEAP_DAY_RULES:
        raise SettingsError(f"BIRTHDAY_LEAP_DAY must be feb28 or mar1, not {leap!r}.")
    return BirthdayConfig(
        hour=hour,
        minute=minute,
        leap_day_rule=leap,
        bonus_points=_count(env, "BIRTHDAY_BONUS", 50, 0, 1_000_000) or 0,
        digest_hour=digest_hour,
    )


def followups_from_env(env: Mapping[str, str]) -> FollowUpConfig:
    key = renamed(env, "FOLLOWUP_OVERDUE_HOURS", "CALLBACK_OVERDUE_HOURS")
    return FollowUpConfig(overdue_hours=env_number(env, key, 4.0, 0.1, 24 * 30))


def _hours_pair(env: Mapping[str, str], key: str, default: dict[str, float]) -> dict[str, float]:
    """ "2,8": hours for high and normal priority."""
    raw = env.get(key, "").strip()
    if not raw:
        return default
    parts = raw.split(",")
    try:
        high, normal = (float(p) for p in parts)
    except ValueError:
        raise SettingsError(
            f"{key} must be two numbers of hours, high then normal priority, e.g. 2,8."
        ) from None
    if not (0.1 <= high <= 24 * 30 and 0.1 <= normal <= 24 * 30):
        raise SettingsError(f"{key}: each number of hours must be between 0.1 and 720.")
    return {"high": high, "normal": normal}


def complaints_from_env(env: Mapping[str, str]) -> ComplaintConfig:
    d = ComplaintConfig()
    categories = tuple(c.strip().lower() for c in env.get("COMPLAINT_CATEGORIES", "").split(",") if c.strip())
    if any(not c.replace("_", "").isalnum() or len(c) > 24 for c in categories):
        raise SettingsError("COMPLAINT_CATEGORIES must be comma-separated words, e.g. product,service,other.")
    return ComplaintConfig(
        respond_hours=_hours_pair(env, "COMPLAINT_RESPOND_HOURS", d.respond_hours),
        resolve_hours=_hours_pair(env, "COMPLAINT_RESOLVE_HOURS", d.resolve_hours),
        categories=categories or d.categories,
    )


def cadences_from_env(env: Mapping[str, str]) -> CadenceConfig:
    try:
        rules = cadences.parse_rules(env.get("CADENCES", ""))
    except ValueError as bad:
        raise SettingsError(
            f"CADENCES: {bad} is not a rule; use e.g. tier:gold:90,new:3,level:key:30 (days 1-3650)."
        ) from None
    spread = _count(env, "CADENCE_SPREAD_DAYS", 7, 1, 90) or 7
    return CadenceConfig(rules=rules, spread_days=spread)


def winback_from_env(env: Mapping[str, str]) -> WinbackConfig:
    d = WinbackConfig()
    return WinbackConfig(
        factor=_decimal(env, "WINBACK_FACTOR", d.factor),
        days=_count(env, "WINBACK_DAYS", d.days, 1, 3650) or d.days,
        min_spend=_min_spend(env, "WINBACK_MIN_SPEND", d.min_spend),
        message=env_switch(env, "WINBACK_MESSAGE", d.message),
    )


def _min_spend(env: Mapping[str, str], key: str, default: Decimal) -> Decimal:
    """A money amount, 0 allowed (every customer counts as valuable)."""
    value = env.get(key, "").strip()
    if value in {"0", "0.0", "0.00"}:
        return Decimal(0)
    return _decimal(env, key, default)


def contact_from_env(env: Mapping[str, str]) -> ContactConfig:
    """CONTACT_BUDGET messages per CONTACT_BUDGET_DAYS, QUIET_HOURS "21-9" (local; "off": none),
    CAMPAIGN_HOLDOUT percent."""
    d = ContactConfig()
    start, end = d.quiet_start, d.quiet_end
    raw = env.get("QUIET_HOURS", "").strip().lower()
    if raw in {"off", "none"}:
        start = end = 0
    elif raw:
        first, _, second = raw.partition("-")
        hours = [inputs.int_or_none(part.strip(), low=0, high=23) for part in (first, second)]
        if hours[0] is None or hours[1] is None:
            raise SettingsError(f"QUIET_HOURS must be two hours 0-23 like 21-9, or off; not {raw!r}.")
        start, end = hours[0], hours[1]
    budget = _count(env, "CONTACT_BUDGET", d.budget, 0, 1000)
    days = _count(env, "CONTACT_BUDGET_DAYS", d.days, 1, 365)
    holdout = _count(env, "CAMPAIGN_HOLDOUT", d.holdout_percent, 0, 90)
    return ContactConfig(
        budget=d.budget if budget is None else budget,
        days=days or d.days,
        quiet_start=start,
        quiet_end=end,
        holdout_percent=d.holdout_percent if holdout is None else holdout,
    )


def _numbers(
    env: Mapping[str, str], key: str, default: tuple[Decimal, ...], count: int
) -> tuple[Decimal, ...]:
    """`count` comma-separated non-negative numbers that do not fall, e.g. 30,60,120,240."""
    raw = env.get(key, "").strip()
    if not raw:
        return default
    try:
        values = tuple(Decimal(part.strip()) for part in raw.split(","))
    except InvalidOperation:
        values = ()
    if (
        len(values) != count
        or not all(v.is_finite() and v >= 0 for v in values)
        or list(values) != sorted(values)
    ):
        raise SettingsError(f"{key} must be {count} rising numbers separated by commas, not {raw!r}.")
    return values


def insight_from_env(env: Mapping[str, str]) -> InsightConfig:
    """Customer insight: the pyramid's shares (percent of buyers in key, major and regular; the rest
    are small), the small-base RFM thresholds, the CLV's discount and the nightly run's time."""
    d = InsightConfig()
    key, major, regular = _numbers(env, "INSIGHT_PYRAMID_PERCENT", (Decimal(1), Decimal(4), Decimal(15)), 3)
    # Each level's own share, stored cumulatively (top 1%, top 5%, top 20%).
    shares = (key / 100, (key + major) / 100, (key + major + regular) / 100)
    if not 0 < shares[0] <= shares[1] <= shares[2] < 1:
        raise SettingsError("INSIGHT_PYRAMID_PERCENT: key, major and regular must add up to less than 100.")
    hour, minute = _clock_time(env, "INSIGHT_SCORING_TIME", (d.hour, d.minute))
    recency = _numbers(env, "INSIGHT_RFM_RECENCY_DAYS", tuple(Decimal(v) for v in d.recency_days), 4)
    frequency = _numbers(env, "INSIGHT_RFM_FREQUENCY", tuple(Decimal(v) for v in d.frequency_counts), 4)
    monetary = _numbers(env, "INSIGHT_RFM_MONETARY", d.monetary_amounts, 4)
    return InsightConfig(
        pyramid_shares=shares,
        min_buyers=_count(env, "INSIGHT_MIN_BUYERS", d.min_buyers, 1, 10**6) or d.min_buyers,
        recency_days=(int(recency[0]), int(recency[1]), int(recency[2]), int(recency[3])),
        frequency_counts=(int(frequency[0]), int(frequency[1]), int(frequency[2]), int(frequency[3])),
        monetary_amounts=(monetary[0], monetary[1], monetary[2], monetary[3]),
        min_repeat_buyers=_count(env, "INSIGHT_MIN_REPEAT_BUYERS", d.min_repeat_buyers, 5, 10**6)
        or d.min_repeat_buyers,
        monthly_discount=Decimal(
            str(env_number(env, "INSIGHT_MONTHLY_DISCOUNT", float(d.monthly_discount), 0, 0.5))
        ),
        default_gap_days=_count(env, "INSIGHT_DEFAULT_GAP_DAYS", d.default_gap_days, 1, 3650)
        or d.default_gap_days,
        hour=hour,
        minute=minute,
    )


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def recurring_from_env(env: Mapping[str, str]) -> RecurringConfig:
    """HOLIDAY_CAMPAIGN_HOUR (0-23); STAFF_SUMMARY_WEEKDAY (mon … sun, or off) and STAFF_SUMMARY_HOUR."""
    d = RecurringConfig()
    raw = env.get("STAFF_SUMMARY_WEEKDAY", "").strip().lower()
    weekday = d.staff_summary_weekday
    if raw in {"off", "none"}:
        weekday = None
    elif raw:
        if raw[:3] not in WEEKDAYS:
            raise SettingsError(f"STAFF_SUMMARY_WEEKDAY must be a day like mon, or off; not {raw!r}.")
        weekday = WEEKDAYS.index(raw[:3]) + 1
    hour = _count(env, "HOLIDAY_CAMPAIGN_HOUR", d.holiday_hour, 0, 23)
    summary_hour = _count(env, "STAFF_SUMMARY_HOUR", d.staff_summary_hour, 0, 23)
    return RecurringConfig(
        holiday_hour=d.holiday_hour if hour is None else hour,
        staff_summary_weekday=weekday,
        staff_summary_hour=d.staff_summary_hour if summary_hour is None else summary_hour,
    )
