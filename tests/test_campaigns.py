"""The campaign directory: answers from its cache at once, refreshes in the background."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import cast

import pytest

from bot.nlpearl.client import NLPearlClient
from bot.nlpearl.errors import Unavailable
from bot.nlpearl.models import Pearl
from bot.usecases.campaigns import FRESH_SECONDS, CampaignDirectory
from tests.clock import FakeClock

SPRING = Pearl(id="664e9a77f0e1d2c3b4a59687", name="Spring", type=2)
AUTUMN = Pearl(id="664e9a77f0e1d2c3b4a59688", name="Autumn", type=2)
# Long enough for any event loop; a fake that should answer at once never gets near it.
PATIENT = 5.0
# Far shorter than a gated fetch, which only ends when the test opens the gate.
IMPATIENT = 0.01


class FakeNLPearl:
    """Answers `list_campaigns` with queued results; a gated call waits for the test."""

    def __init__(self) -> None:
        self.answers: list[list[Pearl] | Exception] = []
        self.calls = 0
        self.gate: asyncio.Event | None = None

    async def list_campaigns(self) -> list[Pearl]:
        self.calls += 1
        answer = self.answers.pop(0)
        if self.gate is not None:
            await self.gate.wait()
        if isinstance(answer, Exception):
            raise answer
        return answer


def directory(fake: FakeNLPearl, clock: FakeClock) -> CampaignDirectory:
    return CampaignDirectory(cast(NLPearlClient, fake), clock=clock.monotonic)


async def guarded(answer: Awaitable[list[Pearl]]) -> list[Pearl]:
    """The answer, or a failure rather than a hang if the directory waits for a gated fetch."""
    return await asyncio.wait_for(answer, PATIENT)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def fake() -> FakeNLPearl:
    return FakeNLPearl()


async def test_first_call_fetches(fake: FakeNLPearl, clock: FakeClock) -> None:
    fake.answers = [[SPRING, AUTUMN]]
    campaigns = directory(fake, clock)
    assert await campaigns.campaigns(wait=PATIENT) == [SPRING, AUTUMN]
    assert fake.calls == 1


async def test_fresh_cache_answers_without_calling(fake: FakeNLPearl, clock: FakeClock) -> None:
    fake.answers = [[SPRING]]
    campaigns = directory(fake, clock)
    await campaigns.campaigns(wait=PATIENT)
    clock.advance(FRESH_SECONDS - 1)
    # `calls` counts every fetch, even one that would find nothing queued.
    assert await campaigns.campaigns(wait=PATIENT) == [SPRING]
    assert await campaigns.campaigns(wait=0) == [SPRING]
    assert fake.calls == 1


async def test_after_fresh_seconds_it_refreshes(fake: FakeNLPearl, clock: FakeClock) -> None:
    fake.answers = [[SPRING], [SPRING, AUTUMN]]
    campaigns = directory(fake, clock)
    await campaigns.campaigns(wait=PATIENT)
    clock.advance(FRESH_SECONDS)
    assert await campaigns.campaigns(wait=PATIENT) == [SPRING, AUTUMN]
    assert fake.calls == 2
    # And the new list is fresh from the time it arrived.
    clock.advance(FRESH_SECONDS - 1)
    assert await campaigns.campaigns(wait=PATIENT) == [SPRING, AUTUMN]
    assert fake.calls == 2


async def test_a_slow_first_fetch_answers_empty_then_fills_the_cache(
    fake: FakeNLPearl, clock: FakeClock
) -> None:
    fake.answers = [[SPRING]]
    fake.gate = asyncio.Event()
    campaigns = directory(fake, clock)
    assert await guarded(campaigns.campaigns(wait=IMPATIENT)) == []
    assert fake.calls == 1
    fake.gate.set()
    # The refresh kept going in the background; this call waits for it, and starts no other.
    assert await campaigns.campaigns(wait=PATIENT) == [SPRING]
    assert fake.calls == 1
    assert await campaigns.campaigns(wait=0) == [SPRING]
    assert fake.calls == 1


async def test_a_slow_refresh_answers_the_old_list_meanwhile(
    fake: FakeNLPearl, clock: FakeClock
) -> None:
    fake.answers = [[SPRING], [SPRING, AUTUMN]]
    campaigns = directory(fake, clock)
    await campaigns.campaigns(wait=PATIENT)
    clock.advance(FRESH_SECONDS + 1)
    fake.gate = asyncio.Event()
    assert await guarded(campaigns.campaigns(wait=IMPATIENT)) == [SPRING]
    # A second impatient caller shares the refresh under way rather than starting another.
    assert await guarded(campaigns.campaigns(wait=IMPATIENT)) == [SPRING]
    assert fake.calls == 2
    fake.gate.set()
    assert await campaigns.campaigns(wait=PATIENT) == [SPRING, AUTUMN]
    assert fake.calls == 2


async def test_concurrent_callers_share_one_fetch(fake: FakeNLPearl, clock: FakeClock) -> None:
    fake.answers = [[SPRING]]
    campaigns = directory(fake, clock)
    answers = await asyncio.gather(*(campaigns.campaigns(wait=PATIENT) for _ in range(5)))
    assert answers == [[SPRING]] * 5
    assert fake.calls == 1


async def test_an_error_keeps_the_old_list(fake: FakeNLPearl, clock: FakeClock) -> None:
    fake.answers = [[SPRING], Unavailable("NLPearl is down"), [AUTUMN]]
    campaigns = directory(fake, clock)
    await campaigns.campaigns(wait=PATIENT)
    clock.advance(FRESH_SECONDS + 1)
    assert await campaigns.campaigns(wait=PATIENT) == [SPRING]
    assert fake.calls == 2
    # The failure did not count as fresh: the next call asks again.
    assert await campaigns.campaigns(wait=PATIENT) == [AUTUMN]
    assert fake.calls == 3


async def test_an_error_on_the_first_fetch_answers_empty(
    fake: FakeNLPearl, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    fake.answers = [Unavailable("NLPearl is down"), [SPRING]]
    campaigns = directory(fake, clock)
    assert await campaigns.campaigns(wait=PATIENT) == []
    assert "Could not list campaigns" in caplog.text
    assert await campaigns.campaigns(wait=PATIENT) == [SPRING]
    assert fake.calls == 2


async def test_an_empty_account_is_cached_too(fake: FakeNLPearl, clock: FakeClock) -> None:
    fake.answers = [[]]
    campaigns = directory(fake, clock)
    assert await campaigns.campaigns(wait=PATIENT) == []
    assert await campaigns.campaigns(wait=PATIENT) == []
    assert fake.calls == 1
