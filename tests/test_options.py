"""The campaign picker's options: filtered by what was typed, outbound only, at most 100."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, cast

import pytest

from bot.listeners.options import CAMPAIGN_WAIT_SECONDS, handle_campaign_options
from bot.nlpearl.models import Pearl
from bot.usecases.services import Services

SPRING = Pearl(id="664e9a77f0e1d2c3b4a59687", name="Solar – Spring Re-engagement", type=2)
AUTUMN = Pearl(id="664e9a77f0e1d2c3b4a5abcd", name="Autumn Roofing", type=2)
NAMELESS = Pearl(id="664e9a77f0e1d2c3b4a50000", name=None, type=None)
INBOUND = Pearl(id="664e9a77f0e1d2c3b4a51111", name="Spring inbound line", type=1)
NO_ID = Pearl(id=None, name="Spring draft", type=2)
TYPED_ID = "6650f1c2a9e4b27d3c8e41a7"


class FakeAck:
    """Records what the handler acknowledged with."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    async def __call__(self, **kwargs: Any) -> None:
        self.calls.append(kwargs)

    @property
    def options(self) -> list[dict[str, Any]]:
        (call,) = self.calls
        assert set(call) == {"options"}
        return cast(list[dict[str, Any]], call["options"])


class FakeCampaigns:
    def __init__(self, pearls: list[Pearl]) -> None:
        self.pearls = pearls
        self.waits: list[float] = []

    async def campaigns(self, wait: float) -> list[Pearl]:
        self.waits.append(wait)
        return list(self.pearls)


def services_with(pearls: list[Pearl]) -> tuple[Services, FakeCampaigns]:
    campaigns = FakeCampaigns(pearls)
    return cast(Services, SimpleNamespace(campaigns=campaigns)), campaigns


async def options_for(typed: str | None, pearls: list[Pearl]) -> list[dict[str, Any]]:
    ack = FakeAck()
    services, campaigns = services_with(pearls)
    payload: dict[str, Any] = {"type": "block_suggestion", "action_id": "lookup.campaign"}
    if typed is not None:
        payload["value"] = typed
    await handle_campaign_options(ack, payload, services)  # type: ignore[arg-type]
    assert campaigns.waits == [CAMPAIGN_WAIT_SECONDS]
    assert CAMPAIGN_WAIT_SECONDS < 3
    return ack.options


def values(options: list[dict[str, Any]]) -> list[str]:
    return [o["value"] for o in options]


ALL = [SPRING, AUTUMN, NAMELESS, INBOUND, NO_ID]


@pytest.mark.parametrize("typed", ["", None, "   "])
async def test_empty_query_lists_every_outbound_campaign(typed: str | None) -> None:
    options = await options_for(typed, ALL)
    assert values(options) == [SPRING.id, AUTUMN.id, NAMELESS.id]


async def test_options_show_name_and_id_tail() -> None:
    options = await options_for("", [SPRING, NAMELESS])
    assert options == [
        {
            "text": {
                "type": "plain_text",
                "text": "Solar – Spring Re-engagement (a59687)",
                "emoji": True,
            },
            "value": SPRING.id,
        },
        {
            "text": {"type": "plain_text", "text": NAMELESS.id, "emoji": True},
            "value": NAMELESS.id,
        },
    ]


@pytest.mark.parametrize("typed", ["spring", "SPRING", "  Spring ", "re-ENGAGE"])
async def test_filters_by_name_ignoring_case(typed: str) -> None:
    assert values(await options_for(typed, ALL)) == [SPRING.id]


@pytest.mark.parametrize("typed", ["a5abcd", "A5ABCD", "664e9a77f0e1d2c3b4a5abcd"])
async def test_filters_by_id_ignoring_case(typed: str) -> None:
    assert values(await options_for(typed, ALL)) == [AUTUMN.id]


async def test_a_part_common_to_all_ids_matches_all_outbound() -> None:
    assert values(await options_for("664e9a77", ALL)) == [SPRING.id, AUTUMN.id, NAMELESS.id]


async def test_inbound_campaigns_are_never_offered() -> None:
    assert values(await options_for("inbound", ALL)) == []
    assert INBOUND.id not in values(await options_for("", ALL))


async def test_nothing_matches() -> None:
    assert await options_for("no such campaign", ALL) == []


async def test_a_typed_id_that_is_not_listed_is_offered_as_is() -> None:
    options = await options_for(TYPED_ID, ALL)
    assert values(options) == [TYPED_ID]
    assert options[0]["text"]["text"].startswith("Use this ID")


async def test_a_typed_id_in_capitals_is_offered_in_lower_case() -> None:
    options = await options_for(f"  {TYPED_ID.upper()} ", [])
    assert values(options) == [TYPED_ID]


async def test_a_listed_id_is_not_offered_twice() -> None:
    options = await options_for(SPRING.id or "", ALL)
    assert values(options) == [SPRING.id]
    assert not options[0]["text"]["text"].startswith("Use this ID")


async def test_an_inbound_id_typed_in_full_is_offered_only_as_typed() -> None:
    options = await options_for(INBOUND.id or "", ALL)
    assert values(options) == [INBOUND.id]
    assert options[0]["text"]["text"].startswith("Use this ID")


@pytest.mark.parametrize(
    "typed", ["6650f1c2a9e4b27d3c8e41a", "6650f1c2a9e4b27d3c8e41a7f", "zz" * 12]
)
async def test_something_that_is_not_an_id_is_not_offered(typed: str) -> None:
    assert await options_for(typed, ALL) == []


async def test_at_most_100_options_from_a_big_account() -> None:
    pearls = [Pearl(id=f"{n:024x}", name=f"Campaign {n}", type=2) for n in range(250)]
    options = await options_for("", pearls)
    assert len(options) == 100
    assert values(options) == [p.id for p in pearls[:100]]


async def test_at_most_100_options_with_a_typed_id_too() -> None:
    # Every name mentions the typed ID, so all 250 match, and the ID itself is offered first.
    pearls = [Pearl(id=f"{n:024x}", name=f"Copy of {TYPED_ID} #{n}", type=2) for n in range(250)]
    options = await options_for(TYPED_ID, pearls)
    assert len(options) == 100
    assert values(options) == [TYPED_ID, *(p.id for p in pearls[:99])]


async def test_option_texts_and_values_fit_slack_limits() -> None:
    pearls = [
        Pearl(id="f" * 400, name="<!channel> " * 50, type=2),
        Pearl(id="a" * 24, name="x" * 300),
    ]
    options = await options_for("", pearls)
    assert len(options) == 2
    for option in options:
        assert 0 < len(option["text"]["text"]) <= 75
        assert option["text"]["type"] == "plain_text"
        assert 0 < len(option["value"]) <= 150


async def test_no_campaigns_at_all() -> None:
    assert await options_for("", []) == []
