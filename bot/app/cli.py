"""The `lead-bot` command line: serve, worker, migrate, preview, check, manifest, demo."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import socket
import sys
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote, urlsplit

from bot.app.listening import listen
from bot.app.settings import (
    ConfigError,
    Settings,
    configure_logging,
    load_settings,
    problem,
    require_multi_workspace,
)
from bot.app.settings import require_slack_credentials as require_slack

BLOCK_KIT_BUILDER = "https://app.slack.com/block-kit-builder/#"
# uvicorn waits this long for open requests on SIGTERM, then delivery gets up to 15 s to
# finish what is in flight: together within the 30 s Heroku gives before SIGKILL.
GRACEFUL_SHUTDOWN_SECONDS = 10


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lead-bot", description="Slack app for NLPearl.AI leads and calls."
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.add_parser("serve", help="run the app (the default)")
    commands.add_parser("worker", help="run only the notification delivery loop")
    commands.add_parser("migrate", help="bring the database schema up to date")
    preview = commands.add_parser("preview", help="print a lead card's Block Kit JSON")
    preview.add_argument("campaign", nargs="?", help="campaign (Pearl) ID")
    preview.add_argument("key", nargs="?", help="lead ID, phone number or external ID")
    preview.add_argument("--sample", action="store_true", help="a made-up lead; no credentials")
    preview.add_argument("--shared", action="store_true", help="as shared in a channel")
    preview.add_argument(
        "--surface",
        choices=("card", "confirm", "edit", "add", "denied"),
        default="card",
        help="the card (default), or a view acting on the lead opens",
    )
    commands.add_parser(
        "demo", help="try it with no accounts: a sandbox campaign and a local Slack console"
    )
    commands.add_parser("check", help="verify the Slack token, NLPearl key and database")
    manifest = commands.add_parser("manifest", help="print the Slack app manifest for your host")
    target = manifest.add_mutually_exclusive_group()
    target.add_argument("--url", help="the app's public base URL, https://HOST")
    target.add_argument(
        "--socket-mode", action="store_true", help="for Socket Mode (local development): no URL"
    )
    manifest.add_argument(
        "--distribution",
        action="store_true",
        help="for installing in any workspace (OAuth): adds the redirect URL; needs --url",
    )
    rotate = commands.add_parser(
        "rotate-key", help="re-encrypt stored NLPearl keys under ENCRYPTION_KEY's first key"
    )
    rotate.add_argument(
        "--generate", action="store_true", help="print a new key to put first in ENCRYPTION_KEY"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; configuration problems print one sentence and exit 2."""
    args = _parser().parse_args(argv)
    try:
        return _run(args)
    except ConfigError as exc:
        print(f"lead-bot: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _serve_processes(listener: socket.socket, count: int, options: dict[str, Any]) -> int:
    """Serve from `count` processes sharing the socket, each restarted by uvicorn if it dies."""
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    config = uvicorn.Config(
        "bot.app.web:app_from_environment", factory=True, workers=count, **options
    )
    Multiprocess(config, sockets=[listener]).run()
    return 0


def _run(args: argparse.Namespace) -> int:
    command = args.command or "serve"
    if command == "manifest":
        return _manifest(args.url, socket_mode=args.socket_mode, distribution=args.distribution)
    if command == "rotate-key" and args.generate:
        return _generate_key()
    if command == "demo":
        from bot.demo.run import run_demo

        return run_demo()
    if command == "preview" and args.sample:
        return _preview_sample(shared=args.shared, surface=args.surface)
    settings = load_settings()
    configure_logging(settings)
    if settings.clock_start is not None:
        from bot.records import start_clock_at

        start_clock_at(settings.clock_start)
    if command == "serve":
        return _serve(settings)
    if command == "worker":
        return _worker(settings)
    if command == "migrate":
        return _migrate(settings)
    if command == "rotate-key":
        return _rotate_key(settings)
    if command == "preview":
        return asyncio.run(
            _preview(settings, args.campaign, args.key, shared=args.shared, surface=args.surface)
        )
    from bot.app.checks import run_checks

    return asyncio.run(run_checks(settings))


def require_nlpearl_key(settings: Settings) -> None:
    """Stop unless an NLPearl API key is configured."""
    if settings.nlpearl_api_key is None:
        raise problem("NLPEARL_API_KEY", "is missing")


def _serve(settings: Settings) -> int:
    import uvicorn

    from bot.app.web import create_app

    require_slack(settings)
    if not settings.oauth_enabled:
        require_nlpearl_key(settings)
    listener = listen(settings.port)
    try:
        _migrate_sqlite(settings)
    except BaseException:
        listener.close()
        raise
    gave_up = False

    def give_up() -> None:
        nonlocal gave_up
        gave_up = True
        server.should_exit = True

    options: dict[str, Any] = {
        "host": "0.0.0.0",
        "port": settings.port,
        "log_level": settings.log_level.lower(),
        "timeout_graceful_shutdown": GRACEFUL_SHUTDOWN_SECONDS,
        "proxy_headers": True,
        "forwarded_allow_ips": "*",
        # uvicorn's own handlers would bypass the root handler and its redacting filter.
        "log_config": None,
    }
    logging.getLogger("uvicorn.error").info("Listening on http://0.0.0.0:%d", settings.port)
    # Socket Mode takes Slack's traffic over one WebSocket, so it has no use for more processes.
    if settings.web_concurrency > 1 and settings.slack_app_token is None:
        return _serve_processes(listener, settings.web_concurrency, options)
    config = uvicorn.Config(create_app(settings, give_up), **options)
    server = uvicorn.Server(config)
    # uvicorn serves on our socket and closes it when it stops.
    server.run(sockets=[listener])
    return 2 if gave_up else 0


def _migrate_sqlite(settings: Settings) -> None:
    """SQLite needs no release phase: bring it up to date at start-up."""
    if _database_backend(settings) == "sqlite":
        _upgrade(settings)


def _database_backend(settings: Settings) -> str:
    """The kind of database DATABASE_URL names, or the one sentence on why it is not valid."""
    from bot.storage.engine import normalize_database_url

    try:
        url, _ = normalize_database_url(settings.database_url)
    except ValueError:
        raise problem("DATABASE_URL") from None
    return url.get_backend_name()


def _upgrade(settings: Settings) -> None:
    """Migrate to the latest schema; a database that cannot be used is one sentence."""
    from bot.storage.migrate import DatabaseUnusable, upgrade_to_latest

    try:
        upgrade_to_latest(settings.database_url)
    except DatabaseUnusable as exc:
        raise ConfigError(str(exc)) from None


def _worker(settings: Settings) -> int:
    from bot.app.worker import run_worker

    if settings.oauth_enabled:
        require_multi_workspace(settings)
    elif settings.slack_bot_token is None:
        raise problem("SLACK_BOT_TOKEN", "is missing")
    _migrate_sqlite(settings)
    asyncio.run(run_worker(settings))
    return 0


def _migrate(settings: Settings) -> int:
    _database_backend(settings)  # a malformed DATABASE_URL is one sentence, before any work
    _upgrade(settings)
    print("Database schema is up to date.")
    return 0


def _generate_key() -> int:
    from bot.storage.sealing import generate_key

    print(generate_key())
    print(
        "Put this key first in ENCRYPTION_KEY, followed by a comma and the key in use now, "
        "restart the app, then run `lead-bot rotate-key`.",
        file=sys.stderr,
    )
    return 0


def _rotate_key(settings: Settings) -> int:
    from bot.app.rotation import rotate_stored_keys

    if settings.encryption_key is None:
        raise problem("ENCRYPTION_KEY", "is missing")
    count = asyncio.run(rotate_stored_keys(settings.database_url, settings.encryption_key))
    print(
        f"Re-encrypted {count} NLPearl key(s) under the first key of ENCRYPTION_KEY; "
        "the keys after it may now be removed."
    )
    return 0


def _manifest(url: str | None, *, socket_mode: bool = False, distribution: bool = False) -> int:
    from bot.app.manifest import manifest_yaml

    if socket_mode and distribution:
        print(
            "lead-bot: --distribution needs HTTP mode: give --url https://HOST instead of "
            "--socket-mode.",
            file=sys.stderr,
        )
        return 2
    if socket_mode:
        print(manifest_yaml(socket_mode=True), end="")
        return 0
    if url is None:
        local = "" if distribution else ", or use --socket-mode for local development"
        print(
            f"lead-bot: give the app's public URL with --url https://HOST{local}.", file=sys.stderr
        )
        return 2
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        print(
            "lead-bot: --url must be the app's public https URL, like https://HOST.",
            file=sys.stderr,
        )
        return 2
    print(manifest_yaml(url, distribution=distribution), end="")
    return 0


def _print_preview(message: dict[str, object]) -> None:
    """The JSON on stdout, so it pipes; the Block Kit Builder link on stderr, for a person."""
    # The Builder reads a modal whole, and a message as its blocks.
    shown = message if message.get("type") == "modal" else {"blocks": message["blocks"]}
    payload = json.dumps(shown, ensure_ascii=False)
    print(json.dumps(message, indent=2, ensure_ascii=False))
    link = f"{BLOCK_KIT_BUILDER}{quote(payload, safe='')}"
    print(f"Open in Block Kit Builder:\n{link}", file=sys.stderr)


def _preview_sample(*, shared: bool, surface: str) -> int:
    from bot.app.previews import surface_preview
    from bot.app.sample import SAMPLE_CAMPAIGN_ID, SAMPLE_LEAD_ID, sample_report
    from bot.blocks.ids import CardRef
    from bot.blocks.lead_card import lead_card
    from bot.blocks.privacy import card_audience
    from bot.records import utc_now

    ref = CardRef(campaign_id=SAMPLE_CAMPAIGN_ID, kind="id", key=SAMPLE_LEAD_ID)
    if shared:
        ref = ref.model_copy(update={"shared_by": "U0SAMPLE"})
    # No settings for a sample: masked as a default install masks a shared card.
    masked = card_audience(ref, "message", mask_shared=True).masked
    report = sample_report()
    card = lead_card(report, ref, now=utc_now(), mask=masked)
    _print_preview(surface_preview(surface, report, card))
    return 0


async def _preview(
    settings: Settings, campaign: str | None, key: str | None, *, shared: bool, surface: str
) -> int:
    from bot.app.previews import surface_preview
    from bot.app.tenancy import build_nlpearl_client, new_http_client
    from bot.blocks.ids import CardRef
    from bot.parsing.grammar import parse_lead_key
    from bot.records import utc_now
    from bot.usecases.cards import lead_card_answer

    lead_key = parse_lead_key(key or "")
    if not campaign or lead_key is None:
        print("lead-bot: give a campaign ID and a lead key, or use --sample.", file=sys.stderr)
        return 2
    require_nlpearl_key(settings)
    ref = CardRef(campaign_id=campaign, kind=lead_key.kind, key=lead_key.value)
    if shared:
        ref = ref.model_copy(update={"shared_by": "U0PREVIEW"})
    async with new_http_client() as http:
        answer = await lead_card_answer(
            build_nlpearl_client(settings, http),
            ref,
            now=utc_now(),
            mask_shared=settings.mask_shared_phone_numbers,
        )
    if answer.report is None:
        _print_preview(answer.message)
        return 1
    _print_preview(surface_preview(surface, answer.report, answer.message))
    return 0


if __name__ == "__main__":
    sys.exit(main())
