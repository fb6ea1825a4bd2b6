"""What a database error means: unreachable (wait, it may come back), refused data, or a bug."""

from __future__ import annotations

from sqlalchemy import exc as sa

# PostgreSQL SQLSTATE classes that mean "not reachable as configured", not "bad statement":
# connection exception, invalid authorization, unknown database, insufficient resources,
# operator intervention (shutting down, starting up).
_UNREACHABLE_SQLSTATES = ("08", "28", "3D", "53", "57P")
# Data exception: the statement's data, not the database.
_DATA_SQLSTATE = "22"
MAX_WORDS = 200


def unreachable(error: BaseException) -> str | None:
    """Why the database cannot be reached, in a few words; None if `error` is something else."""
    if isinstance(error, OSError | sa.TimeoutError):
        # Refused, unknown host, timed out: the driver raises these as they are.
        return in_few_words(error)
    if not isinstance(error, sa.DBAPIError):
        return None
    sqlstate = str(getattr(error.orig, "sqlstate", None) or "")
    if (
        error.connection_invalidated
        or isinstance(error, sa.OperationalError | sa.InterfaceError)
        or sqlstate.startswith(_UNREACHABLE_SQLSTATES)
    ):
        # The driver's own message: SQLAlchemy's adds the statement and its parameters.
        return in_few_words(error.orig if error.orig is not None else error)
    return None


def in_few_words(error: BaseException) -> str:
    """The error's type and the first line of its message, cut short: never a traceback."""
    first = (str(error).strip().splitlines() or [""])[0]
    said = f"{type(error).__name__}: {first}" if first else type(error).__name__
    return said if len(said) <= MAX_WORDS else said[: MAX_WORDS - 1] + "…"


def refused_data(error: BaseException) -> bool:
    """Whether the database refused the statement's data, which no retry can change."""
    # A broken constraint is not the data's fault: a subscription removed while a webhook was being
    # stored breaks a foreign key, and the same webhook stores fine when sent again.
    if unreachable(error) is not None:
        return False
    if isinstance(error, sa.DBAPIError):
        sqlstate = str(getattr(error.orig, "sqlstate", None) or getattr(error.orig, "pgcode", ""))
        return isinstance(error, sa.DataError) or sqlstate.startswith(_DATA_SQLSTATE)
    # A value the driver could not even send (text it cannot encode).
    return isinstance(error, sa.StatementError | UnicodeError)
