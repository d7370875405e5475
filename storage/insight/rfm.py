"""RFM: recency, frequency and monetary scores 1-5 and the segment they put a customer in. Pure
functions; storage.insight.scoring feeds them.

Scores are relative to this business's own buyers (customers with at least one purchase): the four
cut points between the scores are the values at the 20th, 40th, 60th and 80th percentiles (nearest
rank: with the values sorted, the one at rank ceil(n·k/5)), and a value scores by how many cut points
lie strictly below it. Equal values always score the same (ties never split by id or order), so a
heavily tied metric (many one-time buyers) leaves some scores empty rather than guessing.
Recency is the days since the last purchase (fewer is better: 5 − that count); frequency is the
number of purchases and monetary the spend, both over the last 12 months (more is better: 1 + that
count).

Small bases: with fewer than `InsightConfig.min_buyers` buyers (default 20) percentiles say little,
so the cut points are the fixed thresholds from the settings instead (`recency_days`,
`frequency_counts`, `monetary_amounts`): by default recency 30/60/120/240 days, frequency 1/2/3/5
purchases, spend 50/150/400/1000 (a customer with 2 purchases in the year scores F 2, with 4 F 4).

The cut points are computed once per scoring run and kept (storage.insight.models.InsightRun), so a
customer re-scored after a purchase is measured against the same ones as everybody else.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from storage.core.config import InsightConfig

Cuts = tuple[float, float, float, float]

CHAMPIONS, LOYAL, POTENTIAL, NEW, PROMISING = "champions", "loyal", "potential", "new", "promising"
ATTENTION, ABOUT_TO_SLEEP, AT_RISK, CANT_LOSE = "attention", "about_to_sleep", "at_risk", "cant_lose"
HIBERNATING, LOST = "hibernating", "lost"
SEGMENTS = (
    CHAMPIONS,
    LOYAL,
    POTENTIAL,
    NEW,
    PROMISING,
    ATTENTION,
    ABOUT_TO_SLEEP,
    AT_RISK,
    CANT_LOSE,
    HIBERNATING,
    LOST,
)

# The R × FM grid: GRID[r - 1][fm - 1], FM = the mean of F and M rounded half up. It is the widely
# used R × F segment map (the one Putler's and many RFM guides draw: champions R5 F4-5, loyal R3-4
# F4-5, potential loyalists R4-5 F2-3, new R5 F1, promising R4 F1, need attention R3 F3, about to
# sleep R3 F1-2, at risk R1-2 F3-4, can't lose them R1-2 F5, hibernating R1-2 F1-2) with FM in
# place of F, and "lost" for the bottom corner (R1 FM1) that map files under hibernating.
GRID: tuple[tuple[str, ...], ...] = (
    # FM: 1          2               3               4          5
    (LOST, HIBERNATING, AT_RISK, AT_RISK, CANT_LOSE),  # R 1
    (HIBERNATING, HIBERNATING, AT_RISK, AT_RISK, CANT_LOSE),  # R 2
    (ABOUT_TO_SLEEP, ABOUT_TO_SLEEP, ATTENTION, LOYAL, LOYAL),  # R 3
    (PROMISING, POTENTIAL, POTENTIAL, LOYAL, LOYAL),  # R 4
    (NEW, POTENTIAL, POTENTIAL, CHAMPIONS, CHAMPIONS),  # R 5
)
assert {s for row in GRID for s in row} == set(SEGMENTS)


@dataclass(frozen=True)
class RfmCuts:
    """The cut points a run scores against (kept with the run as JSON)."""

    recency: Cuts
    frequency: Cuts
    monetary: Cuts
    quintiles: bool  # False: the small-base thresholds from the settings

    def as_json(self) -> dict[str, object]:
        return {
            "recency": list(self.recency),
            "frequency": list(self.frequency),
            "monetary": list(self.monetary),
            "quintiles": self.quintiles,
        }

    @classmethod
    def from_json(cls, data: dict[str, object]) -> RfmCuts:
        def cuts(name: str) -> Cuts:
            values = [float(v) for v in data[name]]  # type: ignore[attr-defined]
            return (values[0], values[1], values[2], values[3])

        return cls(cuts("recency"), cuts("frequency"), cuts("monetary"), bool(data["quintiles"]))


def quintile_cuts(values: Sequence[float]) -> Cuts:
    """The values at ranks ceil(n·k/5), k = 1..4, of the sorted values (nearest rank)."""
    if not values:
        raise ValueError("quintiles of nothing")
    ordered = sorted(values)
    n = len(ordered)
    a, b, c, d = (ordered[math.ceil(n * k / 5) - 1] for k in (1, 2, 3, 4))
    return (a, b, c, d)


def fixed_cuts(config: InsightConfig) -> RfmCuts:
    def four(values: Sequence[float]) -> Cuts:
        return (float(values[0]), float(values[1]), float(values[2]), float(values[3]))

    return RfmCuts(
        four(config.recency_days),
        four(config.frequency_counts),
        four([float(v) for v in config.monetary_amounts]),
        quintiles=False,
    )


def cuts_for(
    recency: Sequence[float], frequency: Sequence[float], monetary: Sequence[float], config: InsightConfig
) -> RfmCuts:
    """Quintile cut points of the buyers' values, or the fixed ones for a small base (module doc)."""
    if len(recency) < config.min_buyers:
        return fixed_cuts(config)
    return RfmCuts(quintile_cuts(recency), quintile_cuts(frequency), quintile_cuts(monetary), quintiles=True)


def below(value: float, cuts: Cuts) -> int:
    """How many cut points lie strictly below `value` (0-4)."""
    return sum(1 for cut in cuts if cut < value)


def scores(recency_days: float, frequency: float, monetary: float, cuts: RfmCuts) -> tuple[int, int, int]:
    """(R, F, M), each 1-5."""
    return (
        5 - below(recency_days, cuts.recency),
        1 + below(frequency, cuts.frequency),
        1 + below(monetary, cuts.monetary),
    )


def segment(r: int, f: int, m: int) -> str:
    """The segment of an R, F, M triple (GRID, FM = (F + M) / 2 rounded half up)."""
    return GRID[r - 1][(f + m + 1) // 2 - 1]
