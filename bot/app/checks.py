"""`lead-bot check`: try each connection and say in plain words what works and what to fix."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from functools import partial

from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app.settings import Settings, require_multi_workspace
from bot.app.socket_mode import refused_sentence, socket_mode_web_client
from bot.app.tenancy import Tenancy, build_nlpearl_client, build_tenancy, new_http_client
from bot.nlpearl.client import NLPearlClient
from bot.nlpearl.errors import BadCredentials, NLPearlError, NotConnected
from bot.parsing.slack_errors import SLACK_FAILURES, Kind, SlackFailure, classify
from bot.storage.accounts import connected_workspaces
from bot.storage.engine import create_engine, ping
from bot.storage.installations import installed_workspaces
from bot.storage.rows import Installed, Workspace

CHECK_TIMEOUT_SECONDS = 15.0

Out = Callable[[str], None]


async def check_slack(settings: Settings) -> str:
    """Who the bot token belongs to, or why it does not work."""
    if settings.slack_bot_token is None:
        raise CheckFailed("SLACK_BOT_TOKEN is not set: paste the Bot User OAuth Token (xoxb-…).")
    client = AsyncWebClient(
        token=settings.slack_bot_token.get_secret_value(), base_url=settings.slack_api_url
    )
    try:
        auth = await client.auth_test()
    except SLACK_FAILURES as exc:
        raise CheckFailed(_slack_advice(classify(exc), settings.slack_api_url)) from None
    return f"token works in workspace {auth.get('team')!r} as @{auth.get('user')}"


def _slack_advice(failure: SlackFailure, url: str) -> str:
    """What `auth.test` failing this way means for whoever runs the check."""
    if not failure.answered:
        return f"could not reach Slack at {url} ({failure.error})."
    if failure.kind is Kind.AUTH_REVOKED:
        return (
            f"Slack rejected SLACK_BOT_TOKEN ({failure.error}): "
            "reinstall the app and copy the new token."
        )
    advice = {
        Kind.RATE_LIMITED: "",
        Kind.PASSING: " Try again in a few minutes.",
        Kind.NOT_ALLOWED: " Update the app from `lead-bot manifest` and reinstall it.",
    }.get(failure.kind, " Check the app at api.slack.com/apps.")
    if failure.kind is Kind.UNKNOWN and failure.without_json:
        advice = " Check SLACK_API_URL."
    return f"Slack at {url} did not work: {failure.describe()}.{advice}"


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


async def check_app_token(settings: Settings) -> str:
    """Whether Slack opens Socket Mode connections for the app-level token."""
    if settings.slack_app_token is None:
        raise CheckFailed("SLACK_APP_TOKEN is not set: Socket Mode is off.")
    client = socket_mode_web_client(settings.slack_api_url)
    try:
        await client.apps_connections_open(app_token=settings.slack_app_token.get_secret_value())
    except SLACK_FAILURES as exc:
        failure = classify(exc)
        if not failure.answered:
            raise CheckFailed(
                f"could not reach Slack at {settings.slack_api_url} ({failure.error})."
            ) from None
        if not failure.retryable:
            raise CheckFailed(refused_sentence(failure.error)) from None
        raise CheckFailed(
            f"Slack at {settings.slack_api_url} did not open a connection: "
            f"{failure.describe()}. Try again in a few minutes."
        ) from None
    return "SLACK_APP_TOKEN opens Socket Mode connections"


class CheckFailed(Exception):
    """A check failed; the message says what to fix."""


async def run_checks(settings: Settings, out: Callable[[str], None] = print) -> int:
    """Run every check, print one line each, and return 0 only if all pass."""
    if settings.oauth_enabled:
        require_multi_workspace(settings)
        failures = await _run([("Database", partial(check_database, settings))], out)
        failures += await check_workspaces(settings, out)
    else:
        socket = (
            [("Socket Mode", partial(check_app_token, settings))] if settings.socket_mode else []
        )
        checks = [
            ("Slack", partial(check_slack, settings)),
            *socket,
            ("NLPearl", partial(check_nlpearl, settings)),
            ("Database", partial(check_database, settings)),
        ]
        failures = await _run(checks, out)
    out("All good." if not failures else f"{failures} problem(s) to fix.")
    return 0 if not failures else 1


async def _run(checks: Sequence[tuple[str, Callable[[], Awaitable[str]]]], out: Out) -> int:
    """Run the checks in turn, a line each; how many failed."""
    failures = 0
    for name, check in checks:
        try:
            detail = await asyncio.wait_for(check(), CHECK_TIMEOUT_SECONDS)
        except CheckFailed as exc:
            failures += 1
            out(f"✗ {name}: {exc}")
        except TimeoutError:
            failures += 1
            out(f"✗ {name}: no answer within {CHECK_TIMEOUT_SECONDS:.0f} seconds.")
        else:
            out(f"✓ {name}: {detail}")
    return failures


async def check_workspaces(settings: Settings, out: Out) -> int:
    """Multi-workspace mode: a line per installed workspace, on its bot token and NLPearl key."""
    engine = create_engine(settings.database_url)
    try:
        try:
            installed = await installed_workspaces(engine, settings.slack_client_id or "")
        except Exception as exc:
            out(
                f"✗ Installs: could not read them ({type(exc).__name__}): run `lead-bot migrate` "
                "and check DATABASE_URL."
            )
            return 1
        if not installed:
            where = f"{settings.public_url or 'https://YOUR-APP-HOST'}/slack/install"
            out(f"✓ Installs: no workspace has installed Lead Bot yet; add it from {where}.")
            return 0
        async with new_http_client() as http:
            tenancy = build_tenancy(settings, engine, http)
            checks = [
                (_named(one), partial(check_workspace, tenancy, engine, one)) for one in installed
            ]
            return await _run(checks, out)
    finally:
        await engine.dispose()


def _named(installed: Installed) -> str:
    name = installed.enterprise_name if installed.is_enterprise_install else installed.team_name
    ident = installed.workspace.team_id or installed.workspace.enterprise_id
    return f"{name or 'Workspace'} ({ident})"


async def check_workspace(tenancy: Tenancy, engine: AsyncEngine, installed: Installed) -> str:
    """Whether the workspace's bot token works (refreshed if due) and NLPearl takes its key."""
    slack = await tenancy.slack_for(installed.workspace)
    try:
        auth = await slack.auth_test()
    except SLACK_FAILURES as exc:
        failure = classify(exc)
        raise CheckFailed(
            f"its bot token does not work ({failure.describe()}): the workspace should "
            "reinstall Lead Bot."
        ) from None
    bot = f"bot token works as @{auth.get('user')}"
    connected = await _connected_in(engine, installed)
    if not connected:
        raise CheckFailed(
            f"{bot}, but no NLPearl account is connected yet: an admin connects it from "
            "Lead Bot's Home tab."
        )
    for ws in connected:
        await _check_key(await tenancy.nlpearl_for(ws), bot)
    if installed.is_enterprise_install:
        return f"{bot}; the NLPearl keys of {len(connected)} workspace(s) accepted"
    return f"{bot}; NLPearl key accepted"


async def _connected_in(engine: AsyncEngine, installed: Installed) -> list[Workspace]:
    """The workspaces of an install that connected NLPearl: each of an org's connects its own."""
    if not installed.is_enterprise_install:
        connected = await connected_workspaces(engine)
        return [installed.workspace] if installed.workspace in connected else []
    org = installed.workspace.enterprise_id
    return [ws for ws in await connected_workspaces(engine) if ws.enterprise_id == org]


async def _check_key(nlpearl: NLPearlClient, bot: str) -> None:
    """Whether NLPearl accepts a workspace's connected key."""
    try:
        await nlpearl.check_credentials()
    except NotConnected:
        # It is stored, so it is sealed under a key ENCRYPTION_KEY no longer holds.
        raise CheckFailed(
            f"{bot}, but its stored NLPearl key opens with none of ENCRYPTION_KEY's keys: put "
            "back the key it was encrypted with (after a comma), or an admin connects NLPearl "
            "again from Lead Bot's Home tab."
        ) from None
    except BadCredentials:
        raise CheckFailed(
            f"{bot}, but NLPearl rejected the connected key: an admin connects it again from "
            "Lead Bot's Home tab."
        ) from None
    except NLPearlError as exc:
        raise CheckFailed(f"{bot}, but NLPearl did not answer: {exc}.") from None
