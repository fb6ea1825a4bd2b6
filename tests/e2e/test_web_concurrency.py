"""WEB_CONCURRENCY (the Heroku convention): one `serve` runs that many web processes on one port."""

from __future__ import annotations

import random
import signal
from pathlib import Path

import psutil
import pytest

from tests.harness.feed import (
    Event,
    add_campaign,
    bot_environment,
    campaign_id,
    feed_problems,
    make_leads,
    make_plan,
    run_migrate,
    send_concurrently,
    subscribe,
    wait_until_settled,
)
from tests.harness.processes import ServerFactory
from tests.standins import NLPearlStandIn, SlackStandIn

pytestmark = pytest.mark.usefixtures("no_stack_traces")

POST_INTERVAL = 0.2


def test_two_web_processes_share_the_port_and_post_each_event_once_in_order(
    postgres_url: str,  # first, so the database outlives the server at teardown
    server_factory: ServerFactory,
    slack: SlackStandIn,
    nlpearl: NLPearlStandIn,
    tmp_path: Path,
) -> None:
    env = {
        "DATABASE_URL": postgres_url,
        "WEB_CONCURRENCY": "2",
        "SLACK_POST_INTERVAL_SECONDS": str(POST_INTERVAL),
    }
    run_migrate(bot_environment(env, slack, nlpearl, tmp_path), tmp_path)
    campaigns = [campaign_id(n) for n in range(3)]
    channels = [f"C0WEBC{n:02d}" for n in range(3)]
    for campaign in campaigns:
        add_campaign(nlpearl, campaign)
    server = server_factory(env)

    # Beside them runs multiprocessing's resource tracker, which serves no request.
    web_processes = [
        child
        for child in psutil.Process(server.process.pid).children()
        if any("spawn_main" in part for part in child.cmdline())
    ]
    assert len(web_processes) == 2, server.output()

    paths = {
        campaign: subscribe(server, slack, channel, campaign)
        for campaign, channel in zip(campaigns, channels, strict=True)
    }
    plan = make_plan(make_leads(30, campaigns), 5, random.Random(7))

    def url_of(_index: int, event: Event) -> str:
        return server.url + paths[event.lead.campaign]

    send_concurrently(plan, url_of)
    feeds = wait_until_settled(
        slack, channels, plan, database_url=postgres_url, processes=[server], timeout=120
    )
    channel_of = dict(zip(campaigns, channels, strict=True))
    for channel, feed in feeds.items():
        events = [e for e in plan if channel_of[e.lead.campaign] == channel]
        assert feed_problems(feed, events) == [], channel

    code = server.terminate(timeout=30)
    assert code in (0, -signal.SIGTERM), f"exit code {code}; output:\n{server.output()}"
    assert not any(p.is_running() and p.status() != psutil.STATUS_ZOMBIE for p in web_processes)
    assert "Traceback" not in server.output()
