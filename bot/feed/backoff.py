"""Pace a loop whose rounds keep failing: back off, one log line a step, never a flood."""

from __future__ import annotations

import logging
from collections.abc import Callable
from random import random

from bot.storage.faults import in_few_words, unreachable

FIRST_PAUSE_SECONDS = 0.5
MAX_PAUSE_SECONDS = 30.0
# Distinct bugs whose traceback was shown; beyond this many, forget and show them again.
MAX_REMEMBERED = 50


class FailingRounds:
    """Counts a loop's failed rounds in a row; each failure gives the pause before the next."""

    def __init__(
        self,
        log: logging.Logger,
        what: str,
        *,
        first: float = FIRST_PAUSE_SECONDS,
        ceiling: float = MAX_PAUSE_SECONDS,
        jitter: Callable[[], float] = random,
    ) -> None:
        self._log = log
        self._what = what
        self._first = first
        self._ceiling = ceiling
        self._jitter = jitter
        self._failures = 0
        self._bugs = BugsShown()

    @property
    def failures(self) -> int:
        """Failed rounds since the last one that worked."""
        return self._failures

    def failed(self, error: Exception) -> float:
        """Log the failure in one line and return the pause, in seconds, before the next round.

        A database out of reach is expected now and then: no traceback. Anything else is a
        bug: its traceback is shown the first time, then one line each time it comes back.
        """
        self._failures += 1
        top = min(self._ceiling, self._first * 2.0 ** min(self._failures - 1, 30))
        # Full jitter over the upper half: processes that failed together spread out.
        pause = top / 2 + self._jitter() * top / 2
        reason = unreachable(error)
        if reason is not None:
            self._log.warning(
                "%s: the database cannot be reached (%s); next try in %.1f s",
                self._what,
                reason,
                pause,
            )
            return pause
        if self._bugs.first_time(error):
            self._log.error(
                "%s failed unexpectedly; next try in %.1f s", self._what, pause, exc_info=error
            )
        else:
            said = in_few_words(error)
            self._log.error("%s failed again (%s); next try in %.1f s", self._what, said, pause)
        return pause

    def succeeded(self) -> None:
        """A round worked: say so once if rounds had been failing, and start over."""
        if self._failures:
            self._log.info("%s works again after %d failed rounds", self._what, self._failures)
        self._failures = 0


class BugsShown:
    """Which bugs' tracebacks were shown: each once, then a line each time it comes back."""

    def __init__(self) -> None:
        self._shown: set[str] = set()

    def first_time(self, error: BaseException) -> bool:
        """Whether this error (by type and first line) is new, remembering it if so."""
        said = in_few_words(error)
        if said in self._shown:
            return False
        if len(self._shown) >= MAX_REMEMBERED:
            self._shown.clear()
        self._shown.add(said)
        return True
