"""The stand-ins serve several Slack workspaces (added, or installed over OAuth) and several
NLPearl accounts, as multi-workspace installs need, through real clients over loopback."""

from __future__ import annotations

import base64
import threading
from typing import Any

import httpx
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.demo.nlpearl_api import ACCOUNT, SAMPLE_LEAD_ID, SAMPLE_PEARL_ID
from tests.standins import NLPearlStandIn, SlackStandIn
from tests.standins.slack import AUTH_TEST_REPLY, BOT_SCOPES

CLIENT_ID = "1111.2222"
CLIENT_SECRET = "s3cr3t"
REDIRECT_URI = "https://leadbot.example/slack/oauth_redirect"
OTHER_KEY = "acct999:other777"
OTHER_PEARL_ID = "66aa00000000000000000001"

# slack_sdk sends oauth.v2.access's client credentials with aiohttp's BasicAuth, which the
# installed aiohttp deprecates: the SDK's business, not these tests'.
pytestmark = pytest.mark.filterwarnings("ignore:BasicAuth is deprecated:DeprecationWarning")


def client(slack: SlackStandIn, token: str | None = None) -> AsyncWebClient:
    """The real SDK client, pointed at the stand-in (without a token: for OAuth only)."""
    return AsyncWebClient(token=token, base_url=slack.api_url)


def installed(slack: SlackStandIn) -> SlackStandIn:
    """`slack` with the OAuth client configured."""
    slack.set_oauth_client(CLIENT_ID, CLIENT_SECRET)
    return slack


async def exchange(slack: SlackStandIn, code: str, **credentials: str) -> dict[str, Any]:
    """oauth.v2.access for `code` as slack_sdk sends it (HTTP Basic auth); the answer's data."""
    options = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET} | credentials
    answer = await client(slack).oauth_v2_access(code=code, redirect_uri=REDIRECT_URI, **options)
    data: dict[str, Any] = answer.data  # type: ignore[assignment]
    return data


async def refresh(slack: SlackStandIn, refresh_token: str) -> dict[str, Any]:
    """oauth.v2.access exchanging a refresh token, as slack_sdk's token rotator sends it."""
    answer = await client(slack).oauth_v2_access(
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        grant_type="refresh_token",
        refresh_token=refresh_token,
    )
    data: dict[str, Any] = answer.data  # type: ignore[assignment]
    return data


async def slack_error(call: Any) -> str:
    """The Slack error code a failing SDK call raises."""
    with pytest.raises(SlackApiError) as raised:
        await call
    return str(raised.value.response["error"])


def post(slack: SlackStandIn, token: str, method: str, form: dict[str, str]) -> dict[str, Any]:
    """Calls one Web API method with `token` and form fields; the JSON answer."""
    headers = {"Authorization": f"Bearer {token}"}
    answer: dict[str, Any] = httpx.post(slack.api_url + method, data=form, headers=headers).json()
    return answer


# Slack: workspaces added directly


async def test_each_token_answers_auth_test_for_its_workspace(slack: SlackStandIn) -> None:
    """An added token answers its workspace's identity; the default one, AUTH_TEST_REPLY's."""
    slack.add_workspace("T0OTHER", "xoxb-other", enterprise_id="E0ORG", team_name="Other")

    other = (await client(slack, "xoxb-other").auth_test()).data
    default = (await client(slack, slack.valid_token).auth_test()).data

    assert other == {
        "ok": True,
        "url": "https://t0other.slack.com/",
        "team": "Other",
        "user": "leadbot",
        "team_id": "T0OTHER",
        "user_id": "U0BOTT0OTHER",
        "bot_id": "B0BOTT0OTHER",
        "enterprise_id": "E0ORG",
        "is_enterprise_install": False,
    }
    assert default == AUTH_TEST_REPLY
    assert [(r.token, r.team_id) for r in slack.records("auth.test")] == [
        ("xoxb-other", "T0OTHER"),
        ("xoxb-test-token", "T0TEST"),
    ]
    assert slack.workspace_of("xoxb-other") is not None
    assert slack.workspace_of("xoxb-nope") is None


async def test_channels_of_one_workspace_are_unknown_to_other_tokens(
    slack: SlackStandIn,
) -> None:
    """A registered channel answers channel_not_found to any other workspace's token, on every
    method naming it; unregistered channels and channel-less methods serve every token."""
    slack.add_workspace("T1", "xoxb-one", channels=["C1"], bot_user_id="U1BOT")
    slack.add_workspace("T2", "xoxb-two", channels=["C2"])
    slack.add_channel("C0")  # the default workspace's
    one, two = client(slack, "xoxb-one"), client(slack, "xoxb-two")

    posted = await one.chat_postMessage(channel="C1", text="mine")
    refusals = [
        await slack_error(two.chat_postMessage(channel="C1", text="theirs")),
        await slack_error(two.chat_update(channel="C1", ts=posted["ts"], text="x")),
        await slack_error(two.chat_postEphemeral(channel="C1", user="U9", text="x")),
        await slack_error(two.conversations_info(channel="C1")),
        await slack_error(two.conversations_history(channel="C1")),
        await slack_error(two.conversations_replies(channel="C1", ts=posted["ts"])),
        await slack_error(one.chat_postMessage(channel="C0", text="default's")),
        await slack_error(client(slack, slack.valid_token).conversations_info(channel="C1")),
    ]
    shared = post(
        slack,
        "xoxb-two",
        "files.completeUploadExternal",
        {
            "files": '[{"id": "F1"}]',
            "channel_id": "C1",
        },
    )
    elsewhere = [
        await two.chat_postMessage(channel="C2", text="own"),
        await two.chat_postMessage(channel="C-unregistered", text="open"),
        await one.chat_postMessage(channel="C-unregistered", text="open"),
        await client(slack, slack.valid_token).chat_postMessage(channel="C0", text="own"),
        await two.views_open(trigger_id="t1", view={"type": "modal", "blocks": []}),
    ]

    assert refusals == ["channel_not_found"] * len(refusals)
    assert shared == {"ok": False, "error": "channel_not_found"}
    assert all(answer["ok"] for answer in elsewhere)
    assert [m["text"] for m in slack.messages("C1")] == ["mine"]
    assert [c["text"] for c in slack.calls("chat.postMessage", ok_only=True, team_id="T2")] == [
        "own",
        "open",
    ]
    assert len(slack.calls("chat.postMessage", team_id="T2")) == 2 + 1
    assert len(slack.wait_for_calls("chat.postMessage", 3, team_id="T1", timeout=1)) == 3


def test_adding_the_default_token_again_is_refused(slack: SlackStandIn) -> None:
    """The default token speaks for AUTH_TEST_REPLY's workspace only."""
    with pytest.raises(ValueError, match="already speaks"):
        slack.add_workspace("T9", slack.valid_token)


# Slack: OAuth installs


async def test_oauth_install_answers_slacks_v2_shape(slack: SlackStandIn) -> None:
    """A programmed code installs the app: Slack's v2 answer, and a token of that workspace."""
    installed(slack).program_install(
        "code-1", team_id="T1", team_name="One", token="xoxb-1-install", bot_user_id="U1BOT"
    )

    answer = await exchange(slack, "code-1")
    identity = (await client(slack, "xoxb-1-install").auth_test()).data

    assert answer == {
        "ok": True,
        "access_token": "xoxb-1-install",
        "token_type": "bot",
        "scope": ",".join(BOT_SCOPES),
        "bot_user_id": "U1BOT",
        "app_id": "A0LEADBOT",
        "team": {"id": "T1", "name": "One"},
        "enterprise": None,
        "is_enterprise_install": False,
        "authed_user": {"id": "U0INSTALLER"},
    }
    assert (identity["team_id"], identity["user_id"]) == ("T1", "U1BOT")
    [record] = slack.records("oauth.v2.access")
    basic = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    assert record.headers["authorization"] == f"Basic {basic}"
    assert record.body == {"code": "code-1", "redirect_uri": REDIRECT_URI}
    assert (record.token, record.team_id) == (None, "T1")


async def test_oauth_install_of_a_workspace_in_an_enterprise(slack: SlackStandIn) -> None:
    """A team install inside an enterprise names both; its token sees only its workspace."""
    installed(slack).program_install(
        "code-e",
        team_id="T1",
        team_name="One",
        enterprise_id="E1",
        enterprise_name="Org",
        token="xoxb-e1-t1",
        bot_user_id="U1BOT",
        scopes=["chat:write"],
        authed_user_id="U0ADMIN",
    )
    slack.add_workspace("T2", "xoxb-t2", enterprise_id="E1", channels=["C2"])

    answer = await exchange(slack, "code-e")
    refused = await slack_error(client(slack, "xoxb-e1-t1").conversations_info(channel="C2"))

    assert answer["team"] == {"id": "T1", "name": "One"}
    assert answer["enterprise"] == {"id": "E1", "name": "Org"}
    assert (answer["scope"], answer["authed_user"]) == ("chat:write", {"id": "U0ADMIN"})
    assert refused == "channel_not_found"


async def test_org_wide_install_serves_every_workspace_of_its_enterprise(
    slack: SlackStandIn,
) -> None:
    """An org-wide install has no team; its token uses the channels of the enterprise's
    workspaces and no others; auth.test names the enterprise."""
    installed(slack).program_install(
        "code-org",
        enterprise_id="E1",
        enterprise_name="Org",
        is_enterprise_install=True,
        token="xoxb-org",
        bot_user_id="U0ORGBOT",
    )
    slack.add_workspace("T1", "xoxb-t1", enterprise_id="E1", channels=["C1"])
    slack.add_workspace("T2", "xoxb-t2", enterprise_id="E1", channels=["C2"])
    slack.add_workspace("T3", "xoxb-t3", enterprise_id="E2", channels=["C3"])
    slack.add_channel("C0")

    answer = await exchange(slack, "code-org")
    org = client(slack, "xoxb-org")
    identity = (await org.auth_test()).data
    posts = [await org.chat_postMessage(channel=c, text="hi") for c in ("C1", "C2")]
    refusals = [await slack_error(org.chat_postMessage(channel=c, text="hi")) for c in ("C3", "C0")]

    assert answer["team"] is None
    assert answer["enterprise"] == {"id": "E1", "name": "Org"}
    assert answer["is_enterprise_install"] is True
    assert identity["enterprise_id"] == identity["team_id"] == "E1"
    assert identity["is_enterprise_install"] is True
    assert all(p["ok"] for p in posts)
    assert refusals == ["channel_not_found", "channel_not_found"]
    assert len(slack.calls("chat.postMessage", ok_only=True, team_id="E1")) == 2
    assert slack.records("oauth.v2.access")[0].team_id == "E1"


def test_program_install_needs_a_team_or_an_org(slack: SlackStandIn) -> None:
    """A team install names its team; an org-wide one, its enterprise and no team."""
    with pytest.raises(ValueError, match="team install"):
        slack.program_install("c", token="t", bot_user_id="U1")
    with pytest.raises(ValueError, match="team install"):
        slack.program_install(
            "c", team_id="T1", token="t", bot_user_id="U1", is_enterprise_install=True
        )


async def test_oauth_rotation_refreshes_tokens_and_counts(slack: SlackStandIn) -> None:
    """A rotating install comes with a refresh token; each refresh gives a new access token
    and refresh token of the same workspace; the old access token works until it expires."""
    installed(slack).program_install(
        "code-r",
        team_id="T1",
        team_name="One",
        token="xoxe.xoxb-1-first",
        bot_user_id="U1BOT",
        rotating=True,
        expires_in=600,
        refresh_token="xoxe-1-first",
    )

    first = await exchange(slack, "code-r")
    second = await refresh(slack, "xoxe-1-first")
    third = await refresh(slack, second["refresh_token"])
    reused = await slack_error(refresh(slack, "xoxe-1-first"))
    unknown = await slack_error(refresh(slack, "xoxe-1-never"))
    identities = [
        (await client(slack, t).auth_test())["team_id"]
        for t in (
            first["access_token"],
            second["access_token"],
            third["access_token"],
        )
    ]
    slack.expire_token(first["access_token"])
    expired = await slack_error(client(slack, first["access_token"]).auth_test())

    assert (first["refresh_token"], first["expires_in"]) == ("xoxe-1-first", 600)
    assert second["access_token"].startswith("xoxe.xoxb-1-")
    tokens = {first["access_token"], second["access_token"], third["access_token"]}
    assert len(tokens) == 3
    assert len({first["refresh_token"], second["refresh_token"], third["refresh_token"]}) == 3
    assert {key: second[key] for key in ("team", "token_type", "expires_in", "bot_user_id")} == {
        "team": {"id": "T1", "name": "One"},
        "token_type": "bot",
        "expires_in": 600,
        "bot_user_id": "U1BOT",
    }
    assert (reused, unknown) == ("invalid_refresh_token", "invalid_refresh_token")
    assert identities == ["T1", "T1", "T1"]
    assert expired == "token_expired"
    assert (slack.refreshes("T1"), slack.refreshes("T2")) == (2, 0)


async def test_a_token_that_does_not_rotate_has_no_refresh_token(slack: SlackStandIn) -> None:
    """Without rotation the answer has no refresh_token nor expires_in."""
    installed(slack).program_install("c", team_id="T1", token="xoxb-still", bot_user_id="U1")

    answer = await exchange(slack, "c")

    assert "refresh_token" not in answer
    assert "expires_in" not in answer


async def test_oauth_codes_are_single_use(slack: SlackStandIn) -> None:
    """A used code and one never programmed both answer invalid_code."""
    installed(slack).program_install("once", team_id="T1", token="xoxb-once", bot_user_id="U1")

    await exchange(slack, "once")
    reused = await slack_error(exchange(slack, "once"))
    unknown = await slack_error(exchange(slack, "never"))

    assert (reused, unknown) == ("invalid_code", "invalid_code")


async def test_oauth_checks_the_client_credentials(slack: SlackStandIn) -> None:
    """A wrong secret or client ID is refused without using up the code; the credentials may
    also come as form fields."""
    unconfigured = await slack_error(exchange(slack, "c"))
    installed(slack).program_install("c", team_id="T1", token="xoxb-c", bot_user_id="U1")

    wrong_secret = await slack_error(exchange(slack, "c", client_secret="nope"))
    wrong_id = await slack_error(exchange(slack, "c", client_id="9999.9999"))
    form = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "code": "c"}
    async with httpx.AsyncClient() as http:
        by_form = (await http.post(slack.api_url + "oauth.v2.access", data=form)).json()

    assert (unconfigured, wrong_secret, wrong_id) == (
        "invalid_client_id",
        "bad_client_secret",
        "invalid_client_id",
    )
    assert by_form["access_token"] == "xoxb-c"
    assert [r.ok for r in slack.records("oauth.v2.access")] == [False, False, False, True]


async def test_revoked_and_uninstalled_tokens_are_refused(slack: SlackStandIn) -> None:
    """revoke() makes one token answer token_revoked; uninstall() every token of a workspace,
    and its refresh tokens stop working."""
    installed(slack).program_install(
        "c", team_id="T1", token="xoxe.xoxb-t1", bot_user_id="U1", rotating=True
    )
    slack.add_workspace("T2", "xoxb-t2")
    slack.add_workspace("T2", "xoxb-t2-again")
    refresh_token = (await exchange(slack, "c"))["refresh_token"]

    slack.revoke("xoxb-t2")
    slack.uninstall("T1")

    assert await slack_error(client(slack, "xoxb-t2").auth_test()) == "token_revoked"
    assert (await client(slack, "xoxb-t2-again").auth_test())["team_id"] == "T2"
    assert await slack_error(client(slack, "xoxe.xoxb-t1").auth_test()) == "token_revoked"
    assert await slack_error(refresh(slack, refresh_token)) == "invalid_refresh_token"
    assert slack.records("auth.test")[0].team_id == "T2"


async def test_reset_keeps_workspaces_and_installs_but_revives_tokens(
    slack: SlackStandIn,
) -> None:
    """reset() keeps workspaces, channels, the OAuth client and issued tokens; it forgets
    expirations, revocations and records (so the refresh count starts again)."""
    installed(slack).program_install(
        "c", team_id="T1", token="xoxe.xoxb-t1", bot_user_id="U1", rotating=True
    )
    slack.program_install("later", team_id="T3", token="xoxb-t3", bot_user_id="U3")
    slack.add_workspace("T2", "xoxb-t2", channels=["C2"])
    renewed = await refresh(slack, (await exchange(slack, "c"))["refresh_token"])
    slack.revoke(slack.valid_token)
    slack.expire_token("xoxb-t2")

    slack.reset()

    assert slack.refreshes("T1") == 0
    assert (await client(slack, slack.valid_token).auth_test())["team_id"] == "T0TEST"
    assert (await client(slack, "xoxb-t2").auth_test())["team_id"] == "T2"
    assert (await client(slack, renewed["access_token"]).auth_test())["team_id"] == "T1"
    assert (await exchange(slack, "later"))["access_token"] == "xoxb-t3"
    refused = await slack_error(client(slack, "xoxb-t3").chat_postMessage(channel="C2", text="x"))
    assert refused == "channel_not_found"


# NLPearl: several accounts on one URL


def pearl_get(url: str, path: str, key: str) -> httpx.Response:
    """GETs one NLPearl path with the API key `key`."""
    return httpx.get(url + path, headers={"Authorization": f"Bearer {key}"}, timeout=5)


@pytest.fixture
def other(nlpearl: NLPearlStandIn) -> NLPearlStandIn:
    """A second NLPearl account, served from the sample account's URL, with one pearl."""
    account = nlpearl.add_account(OTHER_KEY)
    account.add_pearl({"id": OTHER_PEARL_ID, "name": "Other pearl", "type": 2, "status": 1})
    account.set_account(name="Other account", creditBalance=99.0)
    return account


def test_each_account_answers_get_account_for_itself(
    nlpearl: NLPearlStandIn, other: NLPearlStandIn
) -> None:
    """Get Account answers the account whose key the request carried, on both versions."""
    first = pearl_get(nlpearl.url, "/v2/Account", nlpearl.api_key).json()
    second = [pearl_get(nlpearl.url, f"/{v}/Account", OTHER_KEY).json() for v in ("v1", "v2")]

    assert other.url == nlpearl.url
    assert first == ACCOUNT
    assert second == [{**ACCOUNT, "name": "Other account", "creditBalance": 99.0}] * 2


def test_each_key_sees_only_its_accounts_data(
    nlpearl: NLPearlStandIn, other: NLPearlStandIn
) -> None:
    """Pearls, leads and writes stay with the account whose key reached them."""
    url, key = nlpearl.url, nlpearl.api_key
    lead_path = f"/v2/Outbound/{OTHER_PEARL_ID}/Lead"
    headers = {"Authorization": f"Bearer {OTHER_KEY}"}

    added = httpx.post(url + lead_path, json={"phoneNumber": "+15550001"}, headers=headers)
    lead_id = added.json()["leadId"]
    answers = {
        "own pearl": pearl_get(url, f"/v2/Pearl/{OTHER_PEARL_ID}", OTHER_KEY).status_code,
        "own lead": pearl_get(url, f"{lead_path}/{lead_id}", OTHER_KEY).status_code,
        "sample pearl": pearl_get(url, f"/v2/Pearl/{SAMPLE_PEARL_ID}", OTHER_KEY).status_code,
        "sample lead": pearl_get(
            url, f"/v2/Outbound/{SAMPLE_PEARL_ID}/Lead/{SAMPLE_LEAD_ID}", OTHER_KEY
        ).status_code,
        "other's pearl": pearl_get(url, f"/v2/Pearl/{OTHER_PEARL_ID}", key).status_code,
        "other's lead": pearl_get(url, f"{lead_path}/{lead_id}", key).status_code,
    }
    pearls = [p["id"] for p in pearl_get(url, "/v2/Pearl", OTHER_KEY).json()]

    assert added.status_code == 200
    assert answers == {
        "own pearl": 200,
        "own lead": 200,
        "sample pearl": 404,
        "sample lead": 404,
        "other's pearl": 404,
        "other's lead": 404,
    }
    assert pearls == [OTHER_PEARL_ID]


def test_an_unknown_key_gets_401_recorded_by_the_first_account(
    nlpearl: NLPearlStandIn, other: NLPearlStandIn
) -> None:
    """A key no account has gets 401; the stand-in added to records it, as before accounts."""
    refused = pearl_get(nlpearl.url, "/v2/Account", "acct000:wrong")
    bare = httpx.get(nlpearl.url + "/v2/Account", timeout=5)

    assert (refused.status_code, bare.status_code) == (401, 401)
    assert [r.api_key for r in nlpearl.requests()] == ["acct000:wrong", None]
    assert other.requests() == []


def test_each_account_records_its_own_requests(
    nlpearl: NLPearlStandIn, other: NLPearlStandIn
) -> None:
    """requests() of each account lists only the requests that carried its key."""
    pearl_get(nlpearl.url, "/v2/Account", OTHER_KEY)
    pearl_get(nlpearl.url, "/v1/Account", nlpearl.api_key)
    pearl_get(nlpearl.url, f"/v2/Pearl/{OTHER_PEARL_ID}", OTHER_KEY)

    assert [(r.path, r.api_key) for r in other.requests()] == [
        ("/v2/Account", OTHER_KEY),
        (f"/v2/Pearl/{OTHER_PEARL_ID}", OTHER_KEY),
    ]
    assert [(r.path, r.api_key) for r in nlpearl.requests()] == [("/v1/Account", nlpearl.api_key)]
    assert len(other.wait_for_requests("/v2/", 2, timeout=1)) == 2


def test_faults_and_reset_are_per_account(nlpearl: NLPearlStandIn, other: NLPearlStandIn) -> None:
    """A fault programmed on one account leaves the other alone; reset() of the stand-in
    added to forgets every account's records and faults but keeps the accounts and data."""
    other.fail_next("/v2/Account", status=503, times=2)

    failed = pearl_get(nlpearl.url, "/v2/Account", OTHER_KEY).status_code
    unaffected = pearl_get(nlpearl.url, "/v2/Account", nlpearl.api_key).status_code
    nlpearl.reset()
    after_reset = pearl_get(nlpearl.url, "/v2/Account", OTHER_KEY)

    assert (failed, unaffected, after_reset.status_code) == (503, 200, 200)
    assert after_reset.json()["name"] == "Other account"
    assert len(other.requests()) == 1
    assert nlpearl.requests() == []


def test_an_added_account_is_not_started_nor_added_twice(
    nlpearl: NLPearlStandIn, other: NLPearlStandIn
) -> None:
    """An added account is served by its host; a key is served by one account only."""
    with pytest.raises(RuntimeError, match="served by"):
        other.start()
    for key in (nlpearl.api_key, OTHER_KEY):
        with pytest.raises(ValueError, match="already served"):
            nlpearl.add_account(key)


def test_stop_cuts_short_an_added_accounts_delay(nlpearl: NLPearlStandIn) -> None:
    """stop() of the host ends a delay in progress on an added account (answered 503)."""
    account = nlpearl.add_account(OTHER_KEY)
    account.set_latency(30)

    with httpx.Client(timeout=10) as http:
        answers: list[int] = []
        request = threading.Thread(
            target=lambda: answers.append(
                http.get(
                    nlpearl.url + "/v2/Account", headers={"Authorization": f"Bearer {OTHER_KEY}"}
                ).status_code
            )
        )
        request.start()
        account.wait_for_requests("/v2/Account", timeout=5)
        nlpearl.stop()
        request.join(timeout=5)

    assert answers == [503]
