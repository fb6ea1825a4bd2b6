"""Slack failures are classified in one place, from what slack_sdk really raises.

Each failure is provoked against the Slack stand-in over loopback, through the same client the
app builds (with its retry handlers) and through a bare one, so the classification follows
slack_sdk's real exceptions, including those for a proxy's HTML page instead of Slack's JSON.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pydantic import SecretStr
from slack_sdk.web.async_client import AsyncWebClient

from bot.app.checks import CheckFailed, check_slack
from bot.app.settings import Settings
from bot.app.slack_client import build_slack_client
from bot.feed.deliver import STOPS_SUBSCRIPTION
from bot.parsing.slack_codes import KIND_OF_ERROR, why_stopped
from bot.parsing.slack_errors import (
    SLACK_FAILURES,
    Kind,
    SlackFailure,
    classify,
    retry_after,
)
from bot.usecases.subscribing import channel_problem
from tests.standins import SlackStandIn
from tests.standins.slack import JSON_CONTENT_TYPE

TOKEN = "xoxb-test-token"
BAD_GATEWAY = b"<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"
CONTENT_TYPES = ["text/html", "text/plain", JSON_CONTENT_TYPE]


@pytest.fixture
def slack() -> Iterator[SlackStandIn]:
    with SlackStandIn() as standin:
        yield standin


def settings_for(slack: SlackStandIn, token: str = TOKEN) -> Settings:
    return Settings(slack_bot_token=SecretStr(token), slack_api_url=slack.api_url)


def bare_client(slack: SlackStandIn) -> AsyncWebClient:
    return AsyncWebClient(token=TOKEN, base_url=slack.api_url, retry_handlers=[])


async def failure_of(client: AsyncWebClient) -> SlackFailure:
    """Post once and classify what slack_sdk raised."""
    try:
        await client.chat_postMessage(channel="C1", text="hello")
    except SLACK_FAILURES as exc:
        return classify(exc)
    raise AssertionError("the call did not fail")


# Slack's own answers


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        ("channel_not_found", Kind.CHANNEL_GONE),
        ("not_in_channel", Kind.CHANNEL_GONE),
        ("is_archived", Kind.CHANNEL_GONE),
        ("invalid_auth", Kind.AUTH_REVOKED),
        ("token_revoked", Kind.AUTH_REVOKED),
        ("account_inactive", Kind.AUTH_REVOKED),
        ("missing_scope", Kind.NOT_ALLOWED),
        ("restricted_action", Kind.NOT_ALLOWED),
        ("invalid_blocks", Kind.BLOCKS_REFUSED),
        ("invalid_blocks_format", Kind.BLOCKS_REFUSED),
        ("msg_blocks_too_long", Kind.BLOCKS_REFUSED),
        ("msg_too_long", Kind.MESSAGE_REFUSED),
        ("no_text", Kind.MESSAGE_REFUSED),
        ("message_not_found", Kind.MESSAGE_GONE),
        ("thread_not_found", Kind.MESSAGE_GONE),
        # The message is still there: replacing it would show it twice.
        ("cant_update_message", Kind.UNEDITABLE),
        ("edit_window_closed", Kind.UNEDITABLE),
        ("internal_error", Kind.PASSING),
        ("fatal_error", Kind.PASSING),
        ("ratelimited", Kind.RATE_LIMITED),
        ("something_new_from_slack", Kind.UNKNOWN),
    ],
)
async def test_an_error_code_names_its_kind(slack: SlackStandIn, error: str, kind: Kind) -> None:
    slack.fail_next("chat.postMessage", status=200, error=error)

    failure = await failure_of(bare_client(slack))

    assert (failure.kind, failure.error, failure.status) == (kind, error, 200)
    if kind is not Kind.RATE_LIMITED:
        assert error in failure.describe()
    assert failure.retryable is (kind in {Kind.PASSING, Kind.UNKNOWN, Kind.RATE_LIMITED})


async def test_a_429_is_rate_limited_with_its_retry_after(slack: SlackStandIn) -> None:
    slack.fail_next("chat.postMessage", status=429, headers={"Retry-After": "7"})

    failure = await failure_of(bare_client(slack))

    assert (failure.kind, failure.status, failure.retry_after) == (Kind.RATE_LIMITED, 429, 7)
    assert failure.describe() == "Slack rate limited the call; try again in 7 s"


async def test_a_429_without_retry_after_waits_a_second(slack: SlackStandIn) -> None:
    slack.fail_next("chat.postMessage", status=429, headers={"Retry-After": "soon"})

    failure = await failure_of(bare_client(slack))

    assert (failure.kind, failure.retry_after) == (Kind.RATE_LIMITED, 1.0)


async def test_a_json_5xx_is_passing_and_keeps_its_retry_after(slack: SlackStandIn) -> None:
    slack.fail_next("chat.postMessage", status=500, headers={"Retry-After": "12"})

    failure = await failure_of(bare_client(slack))

    assert failure == SlackFailure(Kind.PASSING, "internal_error", 500, 12.0)
    assert "500" in failure.describe()


# A proxy's page instead of Slack's JSON


@pytest.mark.parametrize("content_type", CONTENT_TYPES)
@pytest.mark.parametrize("status", [502, 503, 504])
async def test_a_5xx_page_that_is_not_json_is_passing_with_its_retry_after(
    slack: SlackStandIn, status: int, content_type: str
) -> None:
    # slack_sdk raises SlackApiError for all of these, but with its own response object for
    # text/html and text/plain, and with aiohttp's raw response when the page claims to be JSON.
    slack.fail_next(
        "chat.postMessage",
        status=status,
        body=BAD_GATEWAY,
        content_type=content_type,
        headers={"Retry-After": "30"},
    )

    failure = await failure_of(bare_client(slack))

    assert failure == SlackFailure(Kind.PASSING, f"http_{status}", status, 30.0)
    assert failure.describe() == (
        f"Slack answered HTTP {status} without its usual JSON, a temporary error"
    )
    assert "<html>" not in failure.describe()


async def test_a_page_without_retry_after_leaves_the_wait_to_back_off(slack: SlackStandIn) -> None:
    slack.fail_next("chat.postMessage", status=502, body=BAD_GATEWAY, content_type="text/html")

    failure = await failure_of(bare_client(slack))

    assert (failure.kind, failure.retry_after) == (Kind.PASSING, None)


async def test_a_4xx_page_is_unknown_not_passing(slack: SlackStandIn) -> None:
    slack.fail_next(
        "chat.postMessage", status=404, body=b"<html>Not Found</html>", content_type="text/html"
    )

    failure = await failure_of(bare_client(slack))

    assert (failure.kind, failure.error, failure.status) == (Kind.UNKNOWN, "http_404", 404)
    assert failure.retryable


async def test_the_apps_client_retries_a_503_page_then_it_is_classified_the_same(
    slack: SlackStandIn,
) -> None:
    # The listeners' client retries 500 and 503 twice by itself (not 502); what is left over is
    # classified as if no retry had happened.
    client = build_slack_client(settings_for(slack))
    slack.fail_next(
        "chat.postMessage", status=503, body=BAD_GATEWAY, content_type="text/html", times=3
    )

    failure = await failure_of(client)

    assert failure == SlackFailure(Kind.PASSING, "http_503", 503, None)
    assert len(slack.records("chat.postMessage")) == 3


async def test_the_delivery_client_never_retries_a_post_by_itself(slack: SlackStandIn) -> None:
    # The post may have landed before the 503: only the delivery loop, which looks first, may
    # send it again.
    client = build_slack_client(settings_for(slack), retries=False)
    slack.fail_next("chat.postMessage", status=503, body=BAD_GATEWAY, content_type="text/html")

    failure = await failure_of(client)

    assert failure == SlackFailure(Kind.PASSING, "http_503", 503, None)
    assert len(slack.records("chat.postMessage")) == 1


async def test_the_apps_client_gives_a_502_page_back_at_once(slack: SlackStandIn) -> None:
    client = build_slack_client(settings_for(slack))
    slack.fail_next(
        "chat.postMessage",
        status=502,
        body=BAD_GATEWAY,
        content_type=JSON_CONTENT_TYPE,
        headers={"Retry-After": "5"},
    )

    failure = await failure_of(client)

    assert failure == SlackFailure(Kind.PASSING, "http_502", 502, 5.0)
    assert len(slack.records("chat.postMessage")) == 1


# Not answered at all


async def test_nothing_listening_is_passing_and_unanswered(slack: SlackStandIn) -> None:
    api_url = slack.api_url
    slack.stop()
    client = AsyncWebClient(token=TOKEN, base_url=api_url, retry_handlers=[])

    failure = await failure_of(client)

    assert (failure.kind, failure.status, failure.answered) == (Kind.PASSING, None, False)
    assert failure.error == "ClientConnectorError"
    assert failure.describe() == "Slack could not be reached (ClientConnectorError)"


def test_a_timeout_is_passing() -> None:
    failure = classify(TimeoutError())

    assert (failure.kind, failure.error, failure.answered) == (Kind.PASSING, "TimeoutError", False)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [("3", 3.0), (" 2.5 ", 2.5), ("0", 1.0), ("-4", 1.0), ("86400", 600.0), ("nan", None)],
)
def test_retry_after_is_read_and_bounded(header: str, seconds: float | None) -> None:
    assert retry_after({"retry-after": header}) == seconds
    assert retry_after({"Retry-After": header}) == seconds


def test_retry_after_that_is_missing_or_a_date_is_none() -> None:
    assert retry_after(None) is None
    assert retry_after({}) is None
    assert retry_after({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}) is None


# Why a channel's feed stopped, in words people can act on


STOPPING_CODES = sorted(c for c, k in KIND_OF_ERROR.items() if k in STOPS_SUBSCRIPTION)


@pytest.mark.parametrize("code", STOPPING_CODES)
def test_every_code_that_stops_a_feed_is_told_as_a_sentence_with_what_to_do(code: str) -> None:
    sentence = why_stopped(code)

    assert code not in sentence
    assert sentence.endswith(".")
    assert any(act in sentence for act in ("/lead subscribe", "reinstall"))


@pytest.mark.parametrize(
    ("code", "words"),
    [
        ("not_in_channel", "I was removed from the channel. Invite me with `/invite @Lead Bot`"),
        ("is_archived", "The channel was archived."),
        ("token_revoked", "Slack no longer accepts my token. Ask an admin to reinstall"),
        ("missing_scope", "a permission or a workspace setting is missing"),
    ],
)
def test_a_stopped_feed_says_what_happened(code: str, words: str) -> None:
    assert words in why_stopped(code)


@pytest.mark.parametrize("code", ["something_new_from_slack", "", "http_403", "<!channel>"])
def test_a_code_lead_bot_does_not_know_still_reads_as_a_sentence(code: str) -> None:
    assert why_stopped(code) == (
        "Slack refused my posts there. Run `/lead subscribe` in the channel again."
    )


# Where the app asks Slack before acting: the subscribe check and `lead-bot check`


async def test_subscribing_in_a_channel_slack_cannot_find_is_refused(slack: SlackStandIn) -> None:
    slack.fail_next("conversations.info", status=200, error="channel_not_found")

    problem = await channel_problem(bare_client(slack), "C0PRIVATE")

    assert problem is not None
    assert "private channel I'm not in" in problem
    assert "/invite" in problem


async def test_subscribing_with_a_revoked_token_says_to_reinstall(slack: SlackStandIn) -> None:
    slack.fail_next("conversations.info", status=200, error="token_revoked")

    problem = await channel_problem(bare_client(slack), "C0LEADS")

    assert problem is not None
    assert "reinstall" in problem
    assert "token_revoked" not in problem


@pytest.mark.parametrize(
    "failure",
    [
        {"status": 200, "error": "missing_scope"},
        {"status": 429},
        {"status": 502, "body": BAD_GATEWAY, "content_type": JSON_CONTENT_TYPE},
        {"status": 502, "body": BAD_GATEWAY, "content_type": "text/plain"},
    ],
    ids=["missing_scope", "429", "html-as-json", "html-as-text"],
)
async def test_subscribing_goes_ahead_when_slack_cannot_say(
    slack: SlackStandIn, failure: dict[str, object]
) -> None:
    # The first post will tell; the check must not fail the command (it used to raise for a
    # page that is not JSON).
    slack.fail_next("conversations.info", **failure)  # type: ignore[arg-type]

    assert await channel_problem(bare_client(slack), "C0LEADS") is None


async def test_subscribing_goes_ahead_when_slack_cannot_be_reached(slack: SlackStandIn) -> None:
    api_url = slack.api_url
    slack.stop()
    client = AsyncWebClient(token=TOKEN, base_url=api_url, retry_handlers=[])

    assert await channel_problem(client, "C0LEADS") is None


async def test_check_names_the_workspace_when_the_token_works(slack: SlackStandIn) -> None:
    assert await check_slack(settings_for(slack)) == "token works in workspace 'Test' as @leadbot"


async def test_check_says_to_reinstall_when_slack_rejects_the_token(slack: SlackStandIn) -> None:
    with pytest.raises(CheckFailed) as failed:
        await check_slack(settings_for(slack, token="xoxb-revoked"))

    assert str(failed.value) == (
        "Slack rejected SLACK_BOT_TOKEN (invalid_auth): reinstall the app and copy the new token."
    )


@pytest.mark.parametrize("content_type", CONTENT_TYPES)
async def test_check_calls_a_proxy_page_a_passing_problem_not_a_bad_token(
    slack: SlackStandIn, content_type: str
) -> None:
    slack.fail_next("auth.test", status=502, body=BAD_GATEWAY, content_type=content_type)

    with pytest.raises(CheckFailed) as failed:
        await check_slack(settings_for(slack))

    assert str(failed.value) == (
        f"Slack at {slack.api_url} did not work: Slack answered HTTP 502 without its usual "
        "JSON, a temporary error. Try again in a few minutes."
    )


async def test_check_says_when_slack_is_rate_limiting(slack: SlackStandIn) -> None:
    slack.fail_next("auth.test", status=429, headers={"Retry-After": "20"}, times=3)

    with pytest.raises(CheckFailed) as failed:
        await check_slack(settings_for(slack))

    assert str(failed.value) == (
        f"Slack at {slack.api_url} did not work: Slack rate limited the call; try again in 20 s."
    )


async def test_check_says_to_reinstall_when_a_scope_is_missing(slack: SlackStandIn) -> None:
    slack.fail_next("auth.test", status=200, error="missing_scope")

    with pytest.raises(CheckFailed) as failed:
        await check_slack(settings_for(slack))

    assert "(missing_scope)" in str(failed.value)
    assert "lead-bot manifest" in str(failed.value)


async def test_check_says_to_look_at_the_url_when_it_is_not_slack(slack: SlackStandIn) -> None:
    slack.fail_next(
        "auth.test", status=404, body=b"<html>Not Found</html>", content_type="text/html"
    )

    with pytest.raises(CheckFailed) as failed:
        await check_slack(settings_for(slack))

    assert str(failed.value).endswith("Check SLACK_API_URL.")
