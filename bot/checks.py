"""`lead-bot check`: try each connection and say in plain words what works and what to fix."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Settings
from bot.nlpearl import BadCredentials, NLPearlError
from bot.storage.engine import create_engine, ping
from bot.web import build_nlpearl_client, new_http_client

CHECK_TIMEOUT_SECONDS = 15.0


async def check_slack(settings: Settings) -> str:
    """Who the bot token belongs to, or why it does not work."""
    if settings.slack_bot_token is None:
        raise CheckFailed("SLACK_BOT_TOKEN is not set: paste the Bot User OAuth Token (xoxb-…).")
    client = AsyncWebClient(
        token=settings.slack_bot_token.get_secret_value(), base_url=settings.slack_api_url
    )
    try:
        auth = await client.auth_test()
    except SlackApiError as exc:
        error = exc.response.get("error", "unknown_error")
        raise CheckFailed(
            f"Slack rejected SLACK_BOT_TOKEN ({error}): reinstall the app and copy the new token."
        ) from None
    except Exception as exc:
        raise CheckFailed(f"could not reach Slack at {settings.slack_api_url} ({exc}).") from None
    return f"token works in workspace {auth.get('team')!r} as @{auth.get('user')}"


async def check_nlpearl(settings: Settings) -> str:
    """Whether NLPearl accepts the API key."""
    if settings.nlpearl_api_key is None:
        raise CheckFailed(
            "NLPEARL_API_KEY is not set: use AccountId:SecretKey from Settings → API."
        )
    async with new_http_client() as http:
        try:
            await build_nlpearl_client(settings, http).check_credentials()
        except BadCredentials:
            raise CheckFailed(
                "NLPearl rejected NLPEARL_API_KEY: copy AccountId:SecretKey again from "
                "platform.nlpearl.ai → Settings → API."
            ) from None
        except NLPearlError as exc:
            raise CheckFailed(
                f"NLPearl at {settings.nlpearl_api_url} did not work: {exc}."
            ) from None
    return f"API key accepted ({settings.nlpearl_api_version} at {settings.nlpearl_api_url})"


async def check_database(settings: Settings) -> str:
    """Whether the database answers."""
    engine = create_engine(settings.database_url)
    try:
        await ping(engine)
    except Exception as exc:
        raise CheckFailed(
            f"the database did not answer ({type(exc).__name__}): check DATABASE_URL."
        ) from None
    finally:
        await engine.dispose()
    return f"{engine.dialect.name} answers"


class CheckFailed(Exception):
    """A check failed; the message says what to fix."""


async def run_checks(settings: Settings, out: Callable[[str], None] = print) -> int:
    """Run every check, print one line each, and return 0 only if all pass."""
    checks: list[tuple[str, Callable[[Settings], Awaitable[str]]]] = [
        ("Slack", check_slack),
        ("NLPearl", check_nlpearl),
        ("Database", check_database),
    ]
    failures = 0
    for name, check in checks:
        try:
            detail = await asyncio.wait_for(check(settings), CHECK_TIMEOUT_SECONDS)
        except CheckFailed as exc:
            failures += 1
            out(f"✗ {name}: {exc}")
        except TimeoutError:
            failures += 1
            out(f"✗ {name}: no answer within {CHECK_TIMEOUT_SECONDS:.0f} seconds.")
        else:
            out(f"✓ {name}: {detail}")
    out("All good." if not failures else f"{failures} problem(s) to fix.")
    return 0 if not failures else 1
