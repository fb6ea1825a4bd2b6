"""The one fake clock of the suite: time moves only when a test (or a fake sleep) moves it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

START = datetime(2025, 3, 14, 9, 26, 53, 589000, tzinfo=UTC)


class FakeClock:
    """Wall time and monotonic time that move together, and only when told to.

    Hand the code under test `clock.now` (aware UTC datetimes), `clock.monotonic` (float
    seconds) and `clock.sleep` (records each delay and moves the clock on by it) in place of
    `datetime.now(UTC)`, `time.monotonic` and `asyncio.sleep`.
    """

    def __init__(self, start: datetime = START, *, monotonic: float = 1000.0) -> None:
        if start.utcoffset() is None:
            raise ValueError("a FakeClock starts at an aware datetime")
        self._now = start.astimezone(UTC)
        self._monotonic = monotonic
        self.sleeps: list[float] = []

    def now(self) -> datetime:
        """The wall time, as an aware UTC datetime."""
        return self._now

    def monotonic(self) -> float:
        """The monotonic time in seconds."""
        return self._monotonic

    def advance(self, seconds: float | timedelta) -> datetime:
        """Moves both clocks on by `seconds` (not back); the new wall time."""
        if isinstance(seconds, timedelta):
            step, seconds = seconds, seconds.total_seconds()
        else:
            step = timedelta(seconds=seconds)  # to the microsecond; monotonic keeps the float
        if seconds < 0:
            raise ValueError(f"a clock does not go back ({seconds} s)")
        self._now += step
        self._monotonic += seconds
        return self._now

    def advance_to(self, when: datetime) -> datetime:
        """Moves both clocks on until the wall time is `when`; the new wall time."""
        return self.advance(when - self._now)

    async def sleep(self, seconds: float) -> None:
        """A stand-in for `asyncio.sleep`: notes the delay and lets that much time pass."""
        self.sleeps.append(seconds)
        self.advance(max(seconds, 0.0))
