"""OAuth states signed with SLACK_STATE_SECRET (bot.storage.installations.SignedStates).

Over slack_sdk's own AsyncSQLAlchemyOAuthStateStore on a migrated database of each backend,
as multi-workspace mode wires it. A state it issued is consumed once; anything else is refused
without the store being asked, which the unsigned state, still there for the store itself to
consume afterwards, proves.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.storage.engine import create_engine
from bot.storage.installations import SignedStates, state_store
from bot.storage.tables import slack_oauth_states

SECRET = "state-secret-0123456789"
OTHER_SECRET = "another-state-secret-987"


class Spy(AsyncOAuthStateStore):
    """A state store that passes every call on, noting what it was asked to consume."""

    def __init__(self, inner: AsyncOAuthStateStore) -> None:
        self.inner = inner
        self.consumed: list[str] = []

    @property
    def logger(self) -> Any:
        return self.inner.logger

    async def async_issue(self, *args: Any, **kwargs: Any) -> str:
        return str(await self.inner.async_issue(*args, **kwargs))

    async def async_consume(self, state: str) -> bool:
        self.consumed.append(state)
        return bool(await self.inner.async_consume(state))


def signature(state: str, secret: str = SECRET) -> str:
    return hmac.new(secret.encode(), state.encode(), hashlib.sha256).hexdigest()


async def stored_states(engine: AsyncEngine) -> list[str]:
    async with engine.connect() as conn:
        return list((await conn.execute(select(slack_oauth_states.c.state))).scalars())


async def test_an_issued_state_carries_its_signature_and_is_kept_unsigned(
    engine: AsyncEngine,
) -> None:
    signed = SignedStates(state_store(engine), SECRET)

    issued = await signed.async_issue()
    another = await signed.async_issue()

    state, dot, signed_with = issued.rpartition(".")
    assert dot == "."
    assert signed_with == signature(state)
    assert len(signed_with) == 64
    assert another != issued
    assert sorted(await stored_states(engine)) == sorted([state, another.rpartition(".")[0]])


async def test_a_state_is_consumed_once(engine: AsyncEngine) -> None:
    spy = Spy(state_store(engine))
    signed = SignedStates(spy, SECRET)
    issued = await signed.async_issue()
    state = issued.rpartition(".")[0]

    assert await signed.async_consume(issued) is True
    assert await signed.async_consume(issued) is False
    # Both times the store was asked, with the state as it keeps it; it is gone now.
    assert spy.consumed == [state, state]
    assert await stored_states(engine) == []


async def test_an_expired_state_is_refused(engine: AsyncEngine) -> None:
    signed = SignedStates(state_store(engine, expiration_seconds=-60), SECRET)
    issued = await signed.async_issue()

    assert await signed.async_consume(issued) is False


async def test_a_state_signed_with_another_secret_is_refused_unread(engine: AsyncEngine) -> None:
    spy = Spy(state_store(engine))
    issued = await SignedStates(spy, SECRET).async_issue()
    state = issued.rpartition(".")[0]

    assert await SignedStates(spy, OTHER_SECRET).async_consume(issued) is False
    forged = f"{state}.{signature(state, OTHER_SECRET)}"
    assert await SignedStates(spy, SECRET).async_consume(forged) is False

    assert spy.consumed == []
    assert await SignedStates(spy, SECRET).async_consume(issued) is True


def _flip_last(text: str) -> str:
    return text[:-1] + ("0" if text[-1] != "0" else "1")


FORGERIES: dict[str, Callable[[str, str], str]] = {
    # (issued, unsigned state) -> what a forger sends
    "tampered-signature": lambda issued, state: _flip_last(issued),
    "tampered-state": lambda issued, state: (
        "0" + issued[1:] if state[0] != "0" else "1" + issued[1:]
    ),
    "upper-case-signature": lambda issued, state: f"{state}.{signature(state).upper()}",
    "unsigned": lambda issued, state: state,
    "no-dot": lambda issued, state: issued.replace(".", ""),
    "empty": lambda issued, state: "",
    "only-a-dot": lambda issued, state: ".",
    "only-the-signature": lambda issued, state: "." + issued.rpartition(".")[2],
    "signature-then-more": lambda issued, state: issued + ".x",
    "state-in-the-signature": lambda issued, state: f"{signature(state)}.{state}",
    "very-long": lambda issued, state: issued + "0" * 100_000,
    "very-long-state": lambda issued, state: f"{state * 5000}.{signature(state * 5000)[:10]}",
    "non-ascii-signature": lambda issued, state: f"{state}.é{signature(state)[1:]}",
    "non-ascii-state": lambda issued, state: f"é{state}.{signature(state)}",
}


@pytest.mark.parametrize("forge", FORGERIES.values(), ids=FORGERIES.keys())
async def test_a_forged_state_is_refused_without_asking_the_store(
    engine: AsyncEngine, forge: Callable[[str, str], str]
) -> None:
    inner = state_store(engine)
    spy = Spy(inner)
    signed = SignedStates(spy, SECRET)
    issued = await signed.async_issue()
    state = issued.rpartition(".")[0]

    assert await signed.async_consume(forge(issued, state)) is False

    assert spy.consumed == []
    # Untouched: the store still has the state, and gives it up once to whoever holds it.
    assert await inner.async_consume(state) is True


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_a_state_consumed_twice_at_once_is_used_once(
    engine: AsyncEngine, database_url: str
) -> None:
    # Two callbacks with the same state reach two processes at the same moment (a double
    # click, a replay): one is let through. A third session holding the state's row makes
    # both read it before either deletes it.
    signed = SignedStates(state_store(engine), SECRET)
    issued = await signed.async_issue()
    other = create_engine(database_url)
    try:
        async with other.connect() as blocker:
            await blocker.begin()
            await blocker.execute(select(slack_oauth_states.c.id).with_for_update())
            both = [asyncio.create_task(signed.async_consume(issued)) for _ in range(2)]
            await asyncio.sleep(0.5)
            await blocker.commit()
        answers = await asyncio.wait_for(asyncio.gather(*both), 20)
    finally:
        await other.dispose()

    assert sorted(answers) == [False, True]


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(text=st.text())
@example(text="")
@example(text=".")
@example(text="a.é")
@example(text="é.b")
@example(text="\ud800.abc")
@example(text="a" * 300 + "." + "f" * 64)
def test_any_text_is_refused_and_never_raises(database_url: str, text: str) -> None:
    async def consume() -> tuple[bool, list[str]]:
        engine = create_engine(database_url)
        try:
            spy = Spy(state_store(engine))
            consumed = await SignedStates(spy, SECRET).async_consume(text)
            return consumed, spy.consumed
        finally:
            await engine.dispose()

    consumed, asked = asyncio.run(consume())

    assert consumed is False
    assert asked == []
