"""Naming a campaign: its name quickly, or None; never an error, never a long wait."""

from __future__ import annotations

import asyncio
from typing import cast

import pytest

from bot.nlpearl.client import NLPearlClient
from bot.nlpearl.errors import BadCredentials, NLPearlError, NotFound, Unavailable
from bot.nlpearl.models import Pearl
from bot.nlpearl.names import campaign_name, campaign_or_none

SPRING = Pearl(id="664e9a77f0e1d2c3b4a59687", name="Spring", type=2)
# Far beyond any wait asked for below: a fetch this slow is one the caller gives up on.
FOREVER = 60.0


class FakeNLPearl:
    """Answers `get_campaign` with one result, after `delay` seconds."""

    def __init__(self, answer: Pearl | NLPearlError, delay: float = 0.0) -> None:
        self.answer = answer
        self.delay = delay
        self.asked: list[str] = []

    async def get_campaign(self, campaign_id: str) -> Pearl:
        self.asked.append(campaign_id)
        await asyncio.sleep(self.delay)
        if isinstance(self.answer, NLPearlError):
            raise self.answer
        return self.answer


def client(fake: FakeNLPearl) -> NLPearlClient:
    return cast(NLPearlClient, fake)


async def test_the_name_of_a_campaign_nlpearl_knows() -> None:
    fake = FakeNLPearl(SPRING)
    assert await campaign_name(client(fake), SPRING.id) == "Spring"
    assert await campaign_or_none(client(fake), SPRING.id) == SPRING
    assert fake.asked == [SPRING.id, SPRING.id]


async def test_a_campaign_without_a_name_is_named_none() -> None:
    unnamed = Pearl(id=SPRING.id, name=None, type=2)
    assert await campaign_name(client(FakeNLPearl(unnamed)), SPRING.id) is None


@pytest.mark.parametrize(
    "error", [NotFound("no"), Unavailable("down"), BadCredentials("key"), NLPearlError("x")]
)
async def test_any_nlpearl_error_is_none(error: NLPearlError) -> None:
    fake = FakeNLPearl(error)
    assert await campaign_name(client(fake), SPRING.id) is None
    assert await campaign_or_none(client(fake), SPRING.id) is None


async def test_a_slow_nlpearl_is_none_after_the_wait() -> None:
    fake = FakeNLPearl(SPRING, delay=FOREVER)
    started = asyncio.get_running_loop().time()
    assert await campaign_name(client(fake), SPRING.id, wait=0.05) is None
    assert asyncio.get_running_loop().time() - started < FOREVER / 2


async def test_without_a_wait_it_takes_as_long_as_the_client_does() -> None:
    fake = FakeNLPearl(SPRING, delay=0.05)
    assert await campaign_or_none(client(fake), SPRING.id, wait=None) == SPRING


async def test_other_errors_are_bugs_and_pass_through() -> None:
    class Broken(FakeNLPearl):
        async def get_campaign(self, campaign_id: str) -> Pearl:
            raise KeyError(campaign_id)

    with pytest.raises(KeyError):
        await campaign_name(client(Broken(SPRING)), SPRING.id)


async def test_a_caller_that_must_refuse_an_unknown_campaign_hears_not_found() -> None:
    with pytest.raises(NotFound):
        await campaign_name(client(FakeNLPearl(NotFound("no"))), SPRING.id, unknown_raises=True)


async def test_refusing_unknown_campaigns_still_names_none_when_nlpearl_is_down() -> None:
    down = FakeNLPearl(Unavailable("down"))
    assert await campaign_name(client(down), SPRING.id, unknown_raises=True) is None
