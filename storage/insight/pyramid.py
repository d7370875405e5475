"""The value pyramid: each buyer's level by their spend over the last 12 months, ranked against the
business's other customers. Top 1% key (重要客户), the next 4% major (次要客户), the next 15% regular
(普通客户), the rest small (小客户); the shares are InsightConfig.pyramid_shares (cumulative).

Thresholds are spends: with the year's spends of the customers who spent anything sorted from the
highest, the key threshold is the spend at rank ceil(n × 1%), major at ceil(n × 5%), regular at
ceil(n × 20%); a customer at or above a threshold has that level. So a level holds at least one
customer once anybody spent, and customers with equal spend share a level (a tie at a threshold can
make a level a little larger than its share). Nothing spent in the year is small. The thresholds are
computed once per scoring run and kept, like the RFM cut points.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from sqlalchemy import case

from storage.core.config import InsightConfig

KEY, MAJOR, REGULAR, SMALL = "key", "major", "regular", "small"
LEVELS = (KEY, MAJOR, REGULAR, SMALL)  # from the top

Thresholds = tuple[float, float, float]  # the least spend of key, major and regular


def thresholds(spends: Sequence[float], config: InsightConfig) -> Thresholds | None:
    """The pyramid's thresholds from the buyers' 12-month spends (None: nobody spent anything)."""
    ordered = sorted((s for s in spends if s > 0), reverse=True)
    if not ordered:
        return None
    n = len(ordered)
    key, major, regular = (ordered[math.ceil(n * float(share)) - 1] for share in config.pyramid_shares)
    return (key, major, regular)


def level(spend: float, cuts: Thresholds | None) -> str:
    if cuts is None or spend <= 0:
        return SMALL
    for name, least in zip(LEVELS, cuts, strict=False):
        if spend >= least:
            return name
    return SMALL


def rank(level: Any) -> Any:
    """A SQL expression ordering customers by value level, the top first (0) and the unscored last."""
    return case({code: n for n, code in enumerate(LEVELS)}, value=level, else_=len(LEVELS))
