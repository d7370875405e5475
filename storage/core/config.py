"""Business configuration handed to storage operations and handlers (built by bot.settings)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

LANGUAGES = ("en", "zh")
LEAP_DAY_RULES = ("feb28", "mar1")


@dataclass(frozen=True)
class SenderConfig:
    """How fast the outbox sender may talk to Telegram, and how it retries."""

    rate_per_second: float = 25.0  # global; Telegram's bulk limit is about 30/s
    private_chat_interval: float = 1.0  # seconds between two messages to one private chat
    group_per_minute: int = 20  # messages to one group in any 60 s
    max_in_flight: int = 16  # sends started but not yet recorded: the duplicate bound after a kill
    batch: int = 100  # rows claimed per round
    max_attempts: int = 5  # TimedOut / network errors before a row fails for good
    claim_lease_seconds: float = 120.0  # a claim older than this belongs to a dead sender
    poll_seconds: float = 0.5  # idle wait when nothing is due


@dataclass(frozen=True)
class BulkConfig:
    """Bulk jobs (storage.core.bulk): fanned out by a tick in batches of one transaction each, their staff
    message edited in place with the progress."""

    # Keys (customers) per batch: one transaction, short enough that an update waiting behind it stays
    # quick (benchmarks.updates' freeze row: p99 of /points 42 ms at 100 vs 170 ms at 200 on SQLite).
    batch: int = 100
    batches_per_tick: int = 25  # then the tick reports progress; the next tick goes on
    report_seconds: float = 5.0  # at most one progress edit per job this often (Telegram's edit limits)


@dataclass(frozen=True)
class BirthdayConfig:
    hour: int = 10  # local wall-clock time of the greeting
    minute: int = 0
    # Where a 29 February birthday is greeted in a common year.
    leap_day_rule: str = "feb28"
    bonus_points: int = 50
    # Staff digest of today's birthdays, at this hour in the staff time zone.
    digest_hour: int = 9


@dataclass(frozen=True)
class FollowUpConfig:
    # An open task whose reminder got no reaction is reminded once more after this long.
    overdue_hours: float = 4.0


@dataclass(frozen=True)
class ComplaintConfig:
    """Response-time targets for feedback items and detractor cards, by priority ("high": the
    customer's value level is key or major; "normal": everyone else)."""

    respond_hours: dict[str, float] = field(default_factory=lambda: {"high": 2.0, "normal": 8.0})
    resolve_hours: dict[str, float] = field(default_factory=lambda: {"high": 24.0, "normal": 72.0})
    # A reminder when this share of a deadline's time has gone; an escalation to admins once it passes.
    remind_at: float = 0.75
    categories: tuple[str, ...] = ("product", "service", "delivery", "price", "other")


@dataclass(frozen=True)
class WarningConfig:
    """Early churn warning (storage.care.churn): which customers are worth a call before they lapse,
    and the signals that raise one."""

    levels: tuple[str, ...] = ("key", "major")  # value levels worth keeping (storage.insight.pyramid)
    min_clv: Decimal | None = None  # or a 12-month CLV at least this (None: levels only)
    p_alive: float = 0.5  # P(alive) below this is a signal
    overdue_factor: float = 1.5  # no purchase for this many times their usual gap is a signal
    complaint_days: int = 3  # a complaint open this long is a signal
    detractor_days: int = 30  # a detractor score this recent is a signal


@dataclass(frozen=True)
class Cadence:
    """A regular-care rule: `kind` tier (value: the tier's name), level or segment (storage.insight),
    or new (value unused: `days` after joining, once); else every `days` days."""

    kind: str
    value: str
    days: int

    @property
    def name(self) -> str:
        return f"{self.kind}:{self.value}:{self.days}" if self.value else f"{self.kind}:{self.days}"


@dataclass(frozen=True)
class CadenceConfig:
    rules: tuple[Cadence, ...] = ()
    # New tasks are spread over this many days (by customer), so a rule never lands all at once.
    spread_days: int = 7


@dataclass(frozen=True)
class SurveyConfig:
    # A customer is invited to at most one survey per window (any survey).
    throttle_days: int = 30
    # An invitation's buttons answer "this survey has closed" after this long.
    expire_days: int = 7
    # Points for a completed survey, once per survey per customer (0: no reward).
    reward_points: int = 20
    # A "Call back" on a feedback card creates a task due within this many hours.
    followup_hours: int = 24
    # Scores at or below these put a card in the staff group.
    nps_detractor_max: int = 6
    csat_detractor_max: int = 2
    # The survey sent after a purchase (by name); empty: the most recently activated CSAT survey.
    purchase_survey: str = ""
    # Hours after a purchase until its survey invitation (0: no survey after purchases).
    after_purchase_hours: int = 24


@dataclass(frozen=True)
class Tier:
    """A member tier: reached with `threshold` points earned in the rolling window; purchases earn
    `multiplier` times the base rate."""

    name: str
    threshold: int
    multiplier: Decimal
    # The name in other languages, (language, name) pairs; `name` (the default language's) is the key
    # stored on accounts and rewards and typed by staff.
    names: tuple[tuple[str, str], ...] = ()

    def label(self) -> dict[str, str] | str:
        """The name as a text parameter (storage.core.localized): read in the reader's language."""
        return {"*": self.name, **dict(self.names)} if self.names else self.name


DEFAULT_TIERS = (
    Tier("Member", 0, Decimal("1"), (("zh", "会员"),)),
    Tier("Silver", 500, Decimal("1.25"), (("zh", "银卡会员"),)),
    Tier("Gold", 2000, Decimal("1.5"), (("zh", "金卡会员"),)),
)


@dataclass(frozen=True)
class LoyaltyConfig:
    # Points per unit of currency spent, before the tier multiplier (floor of the product).
    points_per_currency: Decimal = Decimal("1")
    # Ascending thresholds; the first must be 0 (everyone has a tier).
    tiers: tuple[Tier, ...] = DEFAULT_TIERS
    # Tiers count points earned over this many months back (spending never demotes).
    tier_window_months: int = 12
    # Earned points expire this many months after they were earned; None: never.
    expiry_months: int | None = 12
    referral_bonus: int = 100
    # Most points one /award may give, and the largest purchase amount /purchase accepts.
    award_max: int = 1000
    purchase_max: Decimal = Decimal("100000")
    # A voucher can be used for this many days after redemption; None: forever.
    voucher_days: int | None = 90
    # Customers are warned this many days before unspent points expire (0: no warning).
    expiry_warning_days: int = 14

    def __post_init__(self) -> None:
        if not self.tiers or self.tiers[0].threshold != 0:
            raise ValueError("the first tier must start at 0 points")
        thresholds = [t.threshold for t in self.tiers]
        if thresholds != sorted(set(thresholds)):
            raise ValueError("tier thresholds must be strictly ascending")
        if len({t.name.lower() for t in self.tiers}) != len(self.tiers):
            raise ValueError("tier names must be unique")


@dataclass(frozen=True)
class WinbackConfig:
    """Who counts as lapsing, and who is worth a call (storage.winback)."""

    # Lapsed when the last purchase is older than the usual interval between purchases × factor
    # (customers with 3 or more purchases), or than `days` (fewer purchases).
    factor: Decimal = Decimal("2")
    days: int = 60
    # Valuable: spent at least this much in the 12 months up to the last purchase.
    min_spend: Decimal = Decimal("500")
    # Also send the customer a "we miss you" message (besides the staff task).
    message: bool = False


@dataclass(frozen=True)
class ContactConfig:
    """The one contact budget (storage.people.contact_budget) and campaigns' hold-out."""

    # At most `budget` proactive, non-transactional messages per customer in any `days` days.
    budget: int = 2
    days: int = 7
    # Quiet hours in the customer's local time, [start, end) on a 24 h clock (start == end: none); a
    # message due inside them waits until they end.
    quiet_start: int = 21
    quiet_end: int = 9
    # Share of a campaign's audience kept back (the control group), unless the campaign says otherwise.
    holdout_percent: int = 10


@dataclass(frozen=True)
class RecurringConfig:
    """Recurring duties (storage.campaigns.recurring, storage.care.staff_summary)."""

    # A yearly campaign without its own `at HH:MM` goes out at this hour on its date in each customer's
    # own time zone (storage.campaigns.sendtime), under quiet hours.
    holiday_hour: int = 10
    # The weekly /stats staff summary in the staff group: ISO weekday (1 Monday … 7 Sunday; None: off)
    # and hour, staff time zone.
    staff_summary_weekday: int | None = 1
    staff_summary_hour: int = 9


@dataclass(frozen=True)
class InsightConfig:
    """Knowing customers' value (storage.insight): RFM scores, the value pyramid, the CLV model and the
    nightly scoring run."""

    # The value pyramid: cumulative shares of buyers by 12-month spend rank (top 1% key, the next 4%
    # major, the next 15% regular, the rest small).
    pyramid_shares: tuple[Decimal, Decimal, Decimal] = (Decimal("0.01"), Decimal("0.05"), Decimal("0.20"))
    # Fewer buyers than this: R/F/M scores by the fixed thresholds below instead of quintiles.
    min_buyers: int = 20
    # Fixed R/F/M thresholds for a small base: the four cut points between scores 1-5 (a value above
    # the k-th cut point is past it). Recency in days (fewer is better), frequency in purchases and
    # monetary in currency over 12 months (more is better).
    recency_days: tuple[int, int, int, int] = (30, 60, 120, 240)
    frequency_counts: tuple[int, int, int, int] = (1, 2, 3, 5)
    monetary_amounts: tuple[Decimal, Decimal, Decimal, Decimal] = (
        Decimal("50"),
        Decimal("150"),
        Decimal("400"),
        Decimal("1000"),
    )
    # Fewer repeat buyers than this: no BG/NBD fit, the heuristic of storage.insight.clv instead.
    min_repeat_buyers: int = 30
    # The CLV's discount rate per month.
    monthly_discount: Decimal = Decimal("0.01")
    # The usual gap between purchases (days) for a customer with one purchase, in the heuristic.
    default_gap_days: int = 60
    # The nightly run starts at this local time in the staff time zone.
    hour: int = 3
    minute: int = 0
    batch: int = 500  # customers per transaction: ~70 ms (benchmarks.insight; the write lock on SQLite)
    batches_per_tick: int = 20  # then the tick lets other work have the database; the next one goes on

    def __post_init__(self) -> None:
        key, major, regular = self.pyramid_shares
        if not 0 < key <= major <= regular < 1:
            raise ValueError("pyramid shares must rise within (0, 1): key <= major <= regular")
        for cuts in (self.recency_days, self.frequency_counts, self.monetary_amounts):
            if list(cuts) != sorted(cuts):
                raise ValueError("fixed R/F/M thresholds must not fall")


@dataclass(frozen=True)
class Config:
    default_timezone: str = "UTC"
    default_language: str = "en"
    # The region national phone numbers are read in ("DE": "0151 2345678 5" is +4915123456785);
    # None: only international numbers ("+49 …") are read fully.
    default_region: str | None = None
    # ISO 4217 code amounts are shown in (bot.formatting; storage keeps plain decimals); None: no sign.
    currency: str | None = None
    # The staff group: STAFF_CHAT_ID, else the group chosen in Telegram (bot_settings), filled in at
    # run time (bot.app keeps the runtime's config current); None: no staff command works anywhere.
    staff_chat_id: int | None = None
    # What the staff group's Telegram creator / administrators count as: owner|admin|agent|none.
    # New members of the staff group are staff only once an admin approves them (STAFF_APPROVAL).
    staff_approval: bool = True
    group_creator_role: str = "admin"
    group_admin_role: str = "agent"
    owner_ids: frozenset[int] = field(default_factory=frozenset)
    # Time zone the staff group thinks in (follow-up times such as "tomorrow 15:00").
    staff_timezone: str = "UTC"
    surveys: SurveyConfig = field(default_factory=SurveyConfig)
    loyalty: LoyaltyConfig = field(default_factory=LoyaltyConfig)
    sender: SenderConfig = field(default_factory=SenderConfig)
    bulk: BulkConfig = field(default_factory=BulkConfig)
    birthdays: BirthdayConfig = field(default_factory=BirthdayConfig)
    followups: FollowUpConfig = field(default_factory=FollowUpConfig)
    complaints: ComplaintConfig = field(default_factory=ComplaintConfig)
    cadences: CadenceConfig = field(default_factory=CadenceConfig)
    warnings: WarningConfig = field(default_factory=WarningConfig)
    # Customers neither seen nor buying for this many days are erased (storage.privacy.retain); None: never.
    retention_days: int | None = None
    winback: WinbackConfig = field(default_factory=WinbackConfig)
    contact: ContactConfig = field(default_factory=ContactConfig)
    insight: InsightConfig = field(default_factory=InsightConfig)
    recurring: RecurringConfig = field(default_factory=RecurringConfig)
