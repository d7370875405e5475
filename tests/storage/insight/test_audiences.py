"""Insight audiences: segment, level (English codes and names, Chinese names), inactive <N>d and
clv > <amount>, parsed with refusals, resolved (the preview's count) and paged (the bulk job's
batches) from the scores."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.i18n import Catalog
from jobs import scoring as scoring_job
from storage.core.clock import FakeClock
from storage.core.config import Config, LoyaltyConfig
from storage.insight import names, pyramid, rfm
from storage.insight.models import CustomerScore
from storage.surveys import audiences
from storage.surveys.audiences import Audience, AudienceError
from tests.storage.insight.seed import seed_history

NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
LOYALTY = LoyaltyConfig()


@pytest.mark.parametrize(
    ("text", "audience"),
    [
        ("segment champions", Audience("segment", segment=rfm.CHAMPIONS)),
        ("segment At Risk", Audience("segment", segment=rfm.AT_RISK)),
        ("segment can't lose them", Audience("segment", segment=rfm.CANT_LOSE)),
        ("segment cant_lose", Audience("segment", segment=rfm.CANT_LOSE)),
        ("segment 流失客户", Audience("segment", segment=rfm.LOST)),
        ("level key", Audience("level", level=pyramid.KEY)),
        ("level 重要客户", Audience("level", level=pyramid.KEY)),
        ("level 小客户", Audience("level", level=pyramid.SMALL)),
        ("inactive 90d", Audience("inactive", days=90)),
        ("clv > 500", Audience("clv", amount=Decimal("500"))),
        ("clv>99.5", Audience("clv", amount=Decimal("99.5"))),
    ],
)
def test_insight_audiences_parse(text: str, audience: Audience) -> None:
    assert audiences.parse(text) == audience


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("segment", "surveys.audience_segment_syntax"),
        ("segment whales", "surveys.audience_unknown_segment"),
        ("level", "surveys.audience_level_syntax"),
        ("level 大客户", "surveys.audience_unknown_level"),
        ("inactive 90", "surveys.audience_inactive_syntax"),
        ("inactive 0d", "surveys.audience_inactive_syntax"),
        ("clv 500", "surveys.audience_clv_syntax"),
        ("clv > lots", "surveys.audience_clv_syntax"),
    ],
)
def test_insight_audiences_refuse_with_a_catalog_text(text: str, code: str, catalog: Catalog) -> None:
    with pytest.raises(AudienceError) as error:
        audiences.parse(text)
    assert error.value.code == code and catalog.has(code)


def test_every_name_the_catalogs_show_is_accepted(catalog: Catalog) -> None:
    for language in ("en", "zh"):
        for code in rfm.SEGMENTS:
            assert names.find_segment(catalog(language, f"insight.segment.{code}")) == code, (language, code)
        for code in pyramid.LEVELS:
            assert names.find_level(catalog(language, f"insight.level.{code}")) == code, (language, code)


async def test_insight_audiences_resolve_and_page(sessions: async_sessionmaker[AsyncSession]) -> None:
    ids = await seed_history(sessions, NOW)
    await scoring_job.tick(sessions, FakeClock(NOW), Config())
    async with sessions.begin() as session:
        scores = {s.customer_id: s for s in await session.scalars(select(CustomerScore))}

    async def both(text: str) -> list[int]:
        """The preview's ids, checked against the pages of 4 a bulk job would read."""
        audience = audiences.parse(text)
        async with sessions.begin() as session:
            resolved = (await audiences.resolve(session, audience, NOW, LOYALTY)).customer_ids
            paged, after = [], 0
            while True:
                page = await audiences.page(session, audience, after=after, limit=4, now=NOW, loyalty=LOYALTY)
                paged += page.customer_ids
                after = page.last
                if page.read < 4:
                    break
        assert paged == resolved
        return resolved

    champions = sorted(cid for cid, s in scores.items() if s.segment == rfm.CHAMPIONS)
    assert ids["champion"] in champions and await both("segment champions") == champions
    assert await both("segment 流失客户") == [ids["lost"]]
    assert await both("level 重要客户") == [ids["champion"]]
    small = sorted(cid for cid, s in scores.items() if s.level == pyramid.SMALL)
    assert len(small) == 24 and await both("level small") == small
    # Last purchases 7·k days ago for the others, 400 for the lost one, 2 for the champion.
    assert await both("inactive 180d") == sorted([ids["lost"], *(ids[f"other{k}"] for k in range(26, 29))])
    high = sorted(cid for cid, s in scores.items() if s.clv_12m > Decimal("1000"))
    assert ids["champion"] in high and ids["lost"] not in high
    assert await both("clv > 1000") == high
    assert ids["never"] not in await both("inactive 1d")
