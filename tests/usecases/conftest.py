"""NLPearl as the use cases see it: the sample lead, whatever is asked (or no lead at all)."""

from __future__ import annotations

import pytest

from bot.app.sample import sample_report
from bot.nlpearl.errors import NotFound
from bot.records import LeadReport
from bot.usecases import cards


@pytest.fixture(autouse=True)
def sample_lead(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every lookup finds the sample lead."""

    async def look_up_lead(*_: object, **__: object) -> LeadReport:
        return sample_report()

    monkeypatch.setattr(cards, "look_up_lead", look_up_lead)


@pytest.fixture
def no_such_lead(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every lookup finds nothing."""

    async def look_up_lead(*_: object, **__: object) -> LeadReport:
        raise NotFound("no such lead")

    monkeypatch.setattr(cards, "look_up_lead", look_up_lead)
