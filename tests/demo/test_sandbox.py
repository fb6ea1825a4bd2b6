"""The NLPearl sandbox on loopback: its webhooks, its pace, its API and its recordings."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import wave
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import pytest

from bot.demo import sandbox as sandbox_module
from bot.demo.campaign import ALLOWED_MOVES, NEW
from bot.demo.loopback import Answer, Request, StandIn
from bot.demo.sandbox import Sandbox
from bot.nlpearl.changes import LeadUpdate, NewLead
from bot.nlpearl.client import NLPearlClient
from bot.nlpearl.errors import NotFound
from bot.parsing.webhooks import CallUpdate, LeadChange, parse_webhook

Json = dict[str, Any]
FAST = 20.0
WAIT = 10.0  # seconds: generous, for things that should come far sooner


class Receiver(StandIn[Json, Answer]):
    """An app's webhook endpoint: keeps every JSON body POSTed to it, answers 200."""

    thread_name = "webhook-receiver"

    def _answer(self, request: Request) -> Answer:
        try:
            body = json.loads(request.body)
        except ValueError:
            # A post cut short as the sandbox stops: refused, as the app refuses it.
            return Answer(400)
        self._record(body)
        return Answer(200)

    @property
    def webhook_url(self) -> str:
        return f"{self.url}/nlpearl/webhooks/demo-token"

    def bodies(self) -> list[Json]:
        return self._recorded()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as standin:
        yield standin


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    sandbox = Sandbox(seed=3).start()
    try:
        yield sandbox
    finally:
        sandbox.stop()


@contextlib.asynccontextmanager
async def running(sandbox: Sandbox, speed: float = FAST) -> AsyncIterator[None]:
    """The sandbox's campaign running at `speed` for the block; its run must end on request."""
    sandbox.set_pace(speed=speed)
    stopping = asyncio.Event()
    task = asyncio.create_task(sandbox.run(stopping))
    try:
        yield
    finally:
        stopping.set()
        await asyncio.wait_for(task, WAIT)


async def wait_until(condition: Callable[[], bool], what: str) -> None:
    """Waits (generously) until `condition()` holds."""
    try:
        async with asyncio.timeout(WAIT):
            while not condition():  # noqa: ASYNC110 - a condition on another thread
                await asyncio.sleep(0.05)
    except TimeoutError:
        raise AssertionError(f"timed out waiting for {what}") from None


async def settled(receiver: Receiver) -> int:
    """How many bodies arrived once none has for a while (in-flight deliveries included)."""
    count = -1
    while count != len(receiver.bodies()):
        count = len(receiver.bodies())
        await asyncio.sleep(0.75)
    return count


@pytest.fixture
async def client(sandbox: Sandbox) -> AsyncIterator[NLPearlClient]:
    async with httpx.AsyncClient() as http:
        yield NLPearlClient(http, api_key=sandbox.api_key, base_url=sandbox.api.url)


def test_webhooks_go_only_to_loopback_urls_once(sandbox: Sandbox) -> None:
    assert sandbox.send_webhooks_to("http://127.0.0.1:8123/nlpearl/webhooks/abc")
    assert not sandbox.send_webhooks_to("http://127.0.0.1:8123/nlpearl/webhooks/abc")
    assert sandbox.send_webhooks_to("http://localhost:8123/hook")
    for url in (
        "https://127.0.0.1:8123/hook",
        "http://example.com/hook",
        "http://10.0.0.5:8123/hook",
        "http://127.0.0.1.example.com/hook",
        "http://user@127.0.0.1:8123/hook",
        "http://127.0.0.1:port/hook",
        "ftp://localhost/hook",
    ):
        assert not sandbox.send_webhooks_to(url), url
    assert sandbox.status()["webhooks"] == [
        "http://127.0.0.1:8123/nlpearl/webhooks/abc",
        "http://localhost:8123/hook",
    ]


def test_the_status_line_counts_leads_in_words(sandbox: Sandbox) -> None:
    status = sandbox.status()
    assert status["campaign_id"] == sandbox.campaign_id
    assert status["campaign_name"] == sandbox.campaign_name
    # Four were called before the start (yesterday's work): two won, one lost, one voicemail.
    assert status["counts"]["New"] == 32
    assert (status["counts"]["Success"], status["counts"]["Voicemail left"]) == (2, 1)
    assert status["counts"]["On a call"] == 0
    assert (status["paused"], status["speed"]) == (False, 1.0)
    json.dumps(status)
    sandbox.set_pace(speed=1000)
    assert sandbox.status()["speed"] == 20
    sandbox.set_pace(speed=0.01, paused=True)
    assert (sandbox.status()["speed"], sandbox.status()["paused"]) == (0.5, True)


async def test_webhooks_arrive_in_order(sandbox: Sandbox, receiver: Receiver) -> None:
    assert sandbox.send_webhooks_to(receiver.webhook_url)
    async with running(sandbox):
        await wait_until(lambda: len(receiver.bodies()) >= 60, "60 webhooks")
    statuses: dict[str, int] = {}
    phases: dict[str, str] = {}
    for body in receiver.bodies():
        event = parse_webhook(body)
        if isinstance(event, LeadChange):
            lead_id, status = str(event.lead.id), event.lead.status
            assert status in ALLOWED_MOVES[statuses.get(lead_id, NEW)]
            statuses[lead_id] = status or 0
        else:
            assert isinstance(event, CallUpdate)
            call_id = str(event.call.id)
            assert phases.get(call_id) == ("start" if event.phase == "end" else None)
            phases[call_id] = event.phase
    assert "end" in phases.values()


async def test_pause_stops_webhooks_and_speed_brings_them_faster(
    sandbox: Sandbox, receiver: Receiver, client: NLPearlClient
) -> None:
    sandbox.send_webhooks_to(receiver.webhook_url)
    async with running(sandbox):
        await wait_until(lambda: len(receiver.bodies()) >= 10, "10 webhooks")
        sandbox.set_pace(paused=True)
        paused = await settled(receiver)
        await asyncio.sleep(1.0)
        assert len(receiver.bodies()) == paused
        assert sandbox.status()["paused"] is True
        assert (await client.get_campaign(sandbox.campaign_id, fresh=True)).status == 2
        # At half speed a second of real time is half a second of the campaign: hardly a call.
        sandbox.set_pace(paused=False, speed=0.5)
        await asyncio.sleep(1.0)
        assert len(receiver.bodies()) - paused < 8
        sandbox.set_pace(speed=FAST)
        await wait_until(lambda: len(receiver.bodies()) >= paused + 40, "40 more webhooks")
        assert (await client.get_campaign(sandbox.campaign_id, fresh=True)).status == 1


async def test_pausing_the_campaign_in_nlpearl_pauses_the_sandbox(
    sandbox: Sandbox, client: NLPearlClient
) -> None:
    async with running(sandbox):
        assert await client.set_active(sandbox.campaign_id, False) == 2
        await wait_until(lambda: sandbox.status()["paused"], "the sandbox to pause")
        assert await client.set_active(sandbox.campaign_id, True) == 1
        await wait_until(lambda: not sandbox.status()["paused"], "the sandbox to resume")


async def test_a_dead_receiver_stops_nothing(
    sandbox: Sandbox, receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    with Receiver() as dead:
        dead_url = dead.webhook_url
    assert sandbox.send_webhooks_to(dead_url)
    async with running(sandbox):
        await asyncio.sleep(0.5)
        sandbox.send_webhooks_to(receiver.webhook_url)
        await wait_until(lambda: len(receiver.bodies()) >= 40, "40 webhooks to the live app")
        await wait_until(lambda: "Dropped a webhook" in caplog.text, "a dropped webhook logged")
    assert sandbox.status()["counts"]["New"] < 36


async def test_webhooks_waiting_for_a_dead_app_are_bounded(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(sandbox_module, "BACKLOG", 5)
    with Receiver() as dead:
        dead_url = dead.webhook_url
    sandbox.send_webhooks_to(dead_url)
    async with running(sandbox):
        await wait_until(lambda: "backing up" in caplog.text, "the backlog to overflow")
        assert len(sandbox._subscribers[dead_url].backlog) <= 5


async def test_the_api_serves_the_simulated_campaign(
    sandbox: Sandbox, client: NLPearlClient
) -> None:
    campaign = sandbox.campaign
    async with running(sandbox):
        await wait_until(lambda: sandbox.status()["counts"]["Success"] >= 1, "a success")
    pearl = await client.get_campaign(sandbox.campaign_id)
    assert (pearl.id, pearl.name) == (sandbox.campaign_id, sandbox.campaign_name)
    assert pearl.total_leads == len(campaign.lead_ids())
    assert pearl.total_leads_success == sandbox.status()["counts"]["Success"]
    lead_id = sandbox.example_lead_id()
    lead = await client.get_lead(sandbox.campaign_id, lead_id)
    assert (lead.id, lead.status) == (lead_id, 100)
    assert lead.collected_data["isHomeowner"] is True
    by_external = await client.get_lead_by_external_id(sandbox.campaign_id, str(lead.external_id))
    assert by_external == lead
    call = await client.get_call(lead.calls_id[-1])
    assert (call.conversation_status, call.to) == (100, lead.phone_number)
    assert call.transcript
    assert call.summary
    page = await client.search_leads(sandbox.campaign_id, statuses=[100], limit=100)
    assert lead_id in {row.id for row in page.results}


async def test_recordings_are_served_as_wav(sandbox: Sandbox, client: NLPearlClient) -> None:
    async with running(sandbox):
        await wait_until(lambda: sandbox.status()["counts"]["Success"] >= 1, "a success")
    lead = await client.get_lead(sandbox.campaign_id, sandbox.example_lead_id())
    call = await client.get_call(lead.calls_id[-1])
    assert call.recording_url == f"{sandbox.api.url}/recordings/{call.id}.wav"
    async with httpx.AsyncClient() as http:
        answer = await http.get(call.recording_url)
        missing = await http.get(f"{sandbox.api.url}/recordings/000000000000000000000000.wav")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "audio/wav"
    with wave.open(io.BytesIO(answer.content)) as reader:
        assert (reader.getnchannels(), reader.getframerate()) == (1, 8000)
    assert missing.status_code == 404


async def test_a_lead_the_app_stops_is_not_called_again(
    sandbox: Sandbox, client: NLPearlClient, receiver: Receiver
) -> None:
    sandbox.send_webhooks_to(receiver.webhook_url)
    campaign = sandbox.campaign
    waiting = [i for i in campaign.lead_ids() if campaign.lead(i)["status"] == 1][-1]
    await client.update_lead(sandbox.campaign_id, waiting, LeadUpdate(status=130))
    async with running(sandbox):
        await wait_until(lambda: campaign.lead(waiting)["status"] == 130, "the stop followed")
        others = [i for i in campaign.lead_ids() if i != waiting]
        await wait_until(
            lambda: all(campaign.lead(i)["status"] != NEW for i in others), "the others' turns"
        )
    told = [b for b in receiver.bodies() if b.get("id") == waiting]
    assert [b["status"] for b in told] == [130]
    phone = campaign.lead(waiting)["phoneNumber"]
    assert not [b for b in receiver.bodies() if b.get("to") == phone]
    assert campaign.lead(waiting)["callsId"] == []


async def test_a_lead_the_app_adds_is_queued_at_once_and_called(
    sandbox: Sandbox, client: NLPearlClient, receiver: Receiver
) -> None:
    sandbox.send_webhooks_to(receiver.webhook_url)
    added = NewLead(phone_number="+14155550199", call_data={"firstName": "Test"})
    lead_id = await client.add_lead(sandbox.campaign_id, added)
    assert lead_id is not None
    async with running(sandbox):
        campaign = sandbox.campaign
        await wait_until(
            lambda: lead_id in campaign.lead_ids() and bool(campaign.lead(lead_id)["callsId"]),
            "its call",
        )
        await wait_until(
            lambda: any(b.get("id") == lead_id and b["status"] == 40 for b in receiver.bodies()),
            "the webhook saying it is on a call",
        )
    lead = await client.get_lead(sandbox.campaign_id, lead_id)
    assert lead.call_data == {"firstName": "Test"}
    statuses = [b["status"] for b in receiver.bodies() if b.get("id") == lead_id]
    assert statuses[:2] == [20, 40]


async def test_what_the_app_writes_meanwhile_is_never_overwritten(
    sandbox: Sandbox, client: NLPearlClient
) -> None:
    api, campaign_id = sandbox.api, sandbox.campaign_id
    lead = sandbox.campaign.lead(sandbox.campaign.lead_ids()[-1])
    # The app pauses the campaign and stops a lead between the sandbox's read and its write.
    assert await client.set_active(campaign_id, False) == 2
    await client.update_lead(campaign_id, lead["id"], LeadUpdate(status=130))

    api.put_pearl_keeping_status(sandbox.campaign.pearl())
    assert not api.put_lead_unless_changed(campaign_id, lead, last_status=lead["status"])

    assert api.pearl_status(campaign_id) == 2
    assert (await client.get_lead(campaign_id, lead["id"])).status == 130
    async with running(sandbox):
        await wait_until(lambda: sandbox.status()["paused"], "the pause followed")
        await wait_until(lambda: sandbox.campaign.lead(lead["id"])["status"] == 130, "the stop")


async def test_a_retired_lead_leaves_the_api_with_its_calls_and_recordings(
    sandbox: Sandbox, client: NLPearlClient
) -> None:
    api, campaign = sandbox.api, sandbox.campaign
    lead_id = sandbox.example_lead_id()
    call_ids = campaign.lead(lead_id)["callsId"]
    recording = campaign.call(call_ids[0])["recording"]
    async with httpx.AsyncClient() as http:
        assert (await http.get(recording)).status_code == 200
        api.forget_lead(sandbox.campaign_id, lead_id, call_ids)
        assert (await http.get(recording)).status_code == 404
    assert lead_id not in {lead["id"] for lead in api.leads_of(sandbox.campaign_id)}
    with pytest.raises(NotFound):
        await client.get_lead(sandbox.campaign_id, lead_id)


async def test_a_delivery_that_fails_unexpectedly_is_logged_and_started_again(
    sandbox: Sandbox,
    receiver: Receiver,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    real_post = sandbox_module._post
    failures = [RuntimeError("a bug in delivery")]

    async def failing_once(http: httpx.AsyncClient, url: str, body: Json) -> bool:
        if failures:
            raise failures.pop()
        return await real_post(http, url, body)

    monkeypatch.setattr(sandbox_module, "_post", failing_once)
    sandbox.send_webhooks_to(receiver.webhook_url)
    async with running(sandbox):
        await wait_until(lambda: len(receiver.bodies()) >= 5, "webhooks after the failure")
    assert "a bug in delivery" in caplog.text
