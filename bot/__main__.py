"""The `lead-bot` command line: serve, worker, migrate, preview, check, manifest."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence
from urllib.parse import quote

from bot.config import ConfigError, Settings, configure_logging, load_settings, problem
from bot.config import require_slack_credentials as require_slack

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
    commands.add_parser("check", help="verify the Slack token, NLPearl key and database")
    manifest = commands.add_parser("manifest", help="print manifest.yml for your host")
    manifest.add_argument("--url", required=True, help="the app's public base URL, https://HOST")
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


def _run(args: argparse.Namespace) -> int:
    command = args.command or "serve"
    if command == "manifest":
        return _manifest(args.url)
    if command == "preview" and args.sample:
        return _preview_sample(shared=args.shared)
    settings = load_settings()
    configure_logging(settings)
    if command == "serve":
        return _serve(settings)
    if command == "worker":
        return _worker(settings)
    if command == "migrate":
        return _migrate(settings)
    if command == "preview":
        return asyncio.run(_preview(settings, args.campaign, args.key, shared=args.shared))
    from bot.checks import run_checks

    return asyncio.run(run_checks(settings))


def require_nlpearl_key(settings: Settings) -> None:
    """Stop unless an NLPearl API key is configured."""
    if settings.nlpearl_api_key is None:
        raise problem("NLPEARL_API_KEY", "is missing")


def _serve(settings: Settings) -> int:
    import uvicorn

    from bot.web import create_app

    require_slack(settings)
    require_nlpearl_key(settings)
    _migrate_sqlite(settings)
    uvicorn.run(
        create_app(settings),
        host="0.0.0.0",
        port=settings.port,
        log_level=settings.log_level.lower(),
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
        proxy_headers=True,
        forwarded_allow_ips="*",
    )
    return 0


def _migrate_sqlite(settings: Settings) -> None:
    """SQLite needs no release phase: bring it up to date at start-up."""
    from bot.storage.engine import normalize_database_url
    from bot.storage.migrate import upgrade_to_latest

    try:
        url, _ = normalize_database_url(settings.database_url)
    except ValueError:
        raise problem("DATABASE_URL") from None
    if url.get_backend_name() == "sqlite":
        upgrade_to_latest(settings.database_url)


def _worker(settings: Settings) -> int:
    from bot.worker import run_worker

    if settings.slack_bot_token is None:
        raise problem("SLACK_BOT_TOKEN", "is missing")
    _migrate_sqlite(settings)
    asyncio.run(run_worker(settings))
    return 0


def _migrate(settings: Settings) -> int:
    from bot.storage.migrate import upgrade_to_latest

    upgrade_to_latest(settings.database_url)
    print("Database schema is up to date.")
    return 0


def _manifest(url: str) -> int:
    from bot.manifest import manifest_yaml

    if not url.startswith("https://"):
        print(
            "lead-bot: --url must be the app's public https URL, like https://HOST.",
            file=sys.stderr,
        )
        return 2
    print(manifest_yaml(url), end="")
    return 0


def _print_preview(message: dict[str, object]) -> None:
    payload = json.dumps({"blocks": message["blocks"]}, ensure_ascii=False)
    print(json.dumps(message, indent=2, ensure_ascii=False))
    print(f"\nOpen in Block Kit Builder:\n{BLOCK_KIT_BUILDER}{quote(payload, safe='')}")


def _preview_sample(*, shared: bool) -> int:
    from bot.blocks.lead_card import lead_card
    from bot.ids import CardRef
    from bot.sample import SAMPLE_CAMPAIGN_ID, SAMPLE_LEAD_ID, sample_report
    from bot.services import utc_now

    ref = CardRef(campaign_id=SAMPLE_CAMPAIGN_ID, kind="id", key=SAMPLE_LEAD_ID)
    if shared:
        ref = ref.model_copy(update={"shared_by": "U0SAMPLE"})
    _print_preview(lead_card(sample_report(), ref, now=utc_now(), mask=shared))
    return 0


async def _preview(
    settings: Settings, campaign: str | None, key: str | None, *, shared: bool
) -> int:
    from bot.cards import lead_card_answer
    from bot.grammar import parse_lead_key
    from bot.ids import CardRef
    from bot.services import utc_now
    from bot.web import build_nlpearl_client, new_http_client

    lead_key = parse_lead_key(key or "")
    if not campaign or lead_key is None:
        print("lead-bot: give a campaign ID and a lead key, or use --sample.", file=sys.stderr)
        return 2
    require_nlpearl_key(settings)
    ref = CardRef(campaign_id=campaign, kind=lead_key.kind, key=lead_key.value)
    async with new_http_client() as http:
        answer = await lead_card_answer(
            build_nlpearl_client(settings, http), ref, now=utc_now(), mask=shared
        )
    _print_preview(answer.message)
    return 0 if answer.found else 1


if __name__ == "__main__":
    sys.exit(main())
