"""Action latency: acting on a lead from its card, from the click to the redrawn card.

A workspace admin clicks the card's primary button (`lead.act`), confirms in the modal that opens,
and the app sets the lead's status in NLPearl and redraws the card in place. The NLPearl stand-in
answers every request after 100 ms, as in the lookup latency benchmark.

Two things are timed for each action, done one at a time on the sample lead with 10 calls:

- the acks of the click and of the confirmation's submission, against the lookup ack target;
  the baseline, interleaved with the actions, is `/lead help`, which the same app answers inside
  the ack with no background work;
- the redraw: from NLPearl's answer to the update (the stand-in stamps when each answer was
  ready, on the clock the response_url receiver stamps arrivals with) to the redrawn card
  arriving at the click's response_url, in NLPearl round trips. The baseline is a full lookup's
  command-to-card time, measured in the same run as `bench/lookup_latency.py` measures it.

Each action is the verb the card's primary button offers for the lead's status (`primary()`),
so the lead goes back and forth: "Call again" (status 10), then "Stop calling" (130), and so on.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

import httpx

from bench.ack_throughput import MAX_P99_MS
from bench.common import (
    BenchEnvironment,
    Outcome,
    bench_environment,
    first_error,
    log,
    log_problems,
    median,
    percentile,
    signed_command,
)
from bot.blocks.ids import ActionId, ActRef, ViewId
from bot.demo.nlpearl_api import SAMPLE_LEAD_MANY_CALLS_ID, SAMPLE_PEARL_ID, RecordedRequest
from bot.nlpearl.lead_actions import EFFECTS, Verb, primary
from tests.harness.interactions import (
    DEFAULT_USER,
    form,
    message_block_actions,
    view_submission,
)
from tests.harness.processes import ServerProcess
from tests.harness.slack_requests import FORM_CONTENT_TYPE, SIGNING_SECRET, buttons, sign
from tests.standins.slack import Recorded

LATENCY = 0.100  # seconds the NLPearl stand-in waits before each answer
ACTIONS = 30  # timed, after one untimed warm-up action
LOOKUPS = 10  # timed, after one cold lookup
STEP_TIMEOUT = 5.0  # seconds for each awaited step of an action (a modal, the PUT, the card)
HTTP_TIMEOUT = 10.0
MAX_REDRAW_ROUND_TRIPS = 1.5
LEAD_ID = SAMPLE_LEAD_MANY_CALLS_ID
LEAD_PATH = f"/v2/Outbound/{SAMPLE_PEARL_ID}/Lead/{LEAD_ID}"
LOOKUP_TEXT = f"{SAMPLE_PEARL_ID} {LEAD_ID}"
HELP_TEXT = "help"
CONFIRM_TITLE = "Confirm"  # a stale-status modal shares the callback but says "Status changed"


@dataclass(frozen=True)
class Action:
    """One action as it went: its two acks, the redraw and NLPearl's share of it."""

    verb: Verb
    click_ack: float | None  # seconds from sending the click to the app's answer
    submit_ack: float | None  # seconds from sending the confirmation to the app's answer
    redraw: float | None  # seconds from NLPearl answering the PUT to the card arriving
    confirm_to_card: float | None  # seconds from sending the confirmation to the card arriving
    puts: int  # updates the app sent NLPearl for this action
    requests: int  # all requests the app sent NLPearl for this action
    new_status: int | None  # the status its update set, if it sent exactly one
    problem: str | None = None


class ActionFailed(Exception):
    """A step of an action that did not go as a person would see it go."""


def _post(client: httpx.Client, url: str, body: bytes) -> tuple[httpx.Response, float]:
    """Posts an interactive payload signed as Slack signs it; the answer and seconds it took."""
    headers = {"Content-Type": FORM_CONTENT_TYPE, **sign(SIGNING_SECRET, body)}
    sent = time.perf_counter()
    response = client.post(url, content=body, headers=headers)
    return response, time.perf_counter() - sent


def _next_view(env: BenchEnvironment, view_id: str, after: int, what: str) -> dict[str, Any]:
    """The first views.update of the modal `view_id` after record `after`.

    The loading views come before it another way (views.open after the click, the ack's
    `response_action: update` after the confirmation), so this is what the person sees next.
    """

    def matches(record: Recorded) -> bool:
        return record.method_or_path == "views.update" and record.body.get("view_id") == view_id

    try:
        found = env.slack.wait_for_request(matches, after=after, timeout=STEP_TIMEOUT)
    except AssertionError as error:
        raise ActionFailed(f"no {what} within {STEP_TIMEOUT:.0f} s") from error
    view = found.body.get("view")
    if not isinstance(view, dict):
        raise ActionFailed(f"the {what} was not a view")
    return view


def _is_confirmation(view: dict[str, Any]) -> bool:
    title = (view.get("title") or {}).get("text")
    return view.get("callback_id") == ViewId.CONFIRM_ACTION and title == CONFIRM_TITLE


def _status_of_lead(client: httpx.Client, env: BenchEnvironment) -> tuple[int, int]:
    """The lead's status and call count as NLPearl has them now (one round trip)."""
    lead = client.get(
        env.nlpearl.url + LEAD_PATH, headers={"Authorization": f"Bearer {env.nlpearl.api_key}"}
    ).json()
    return int(lead["status"]), len(lead["callsId"])


def _act_ref(status: int) -> ActRef:
    """What the card's primary button carries for the lead in this status."""
    verb = primary(status)
    if verb is None:
        raise RuntimeError(f"a card for a lead in status {status} has no primary button")
    return ActRef.model_validate(
        {"v": verb, "c": SAMPLE_PEARL_ID, "l": LEAD_ID, "s": status, "o": "card"}
    )


def _act(
    client: httpx.Client, env: BenchEnvironment, app: ServerProcess, number: int, status: int
) -> Action:
    """Clicks the card's primary button, confirms, and waits for the card and the outcome."""
    act = _act_ref(status)
    name, view_id = f"act-{number}", f"VACT{number:04d}"
    # Each action's modal needs its own ID: the app keys "apply once" on it, as Slack's are.
    env.slack.set_response("views.open", {"ok": True, "view": {"id": view_id}})
    slack_mark, nlpearl_mark = len(env.slack.records()), len(env.nlpearl.requests())
    click_ack = submit_ack = redraw = confirm_to_card = None
    try:
        click = message_block_actions(
            ActionId.LEAD_PRIMARY.value, act.value(), env.receiver.url(name), user_id=DEFAULT_USER
        )
        response, click_ack = _post(client, app.events_url, form(click))
        if response.status_code != 200:
            raise ActionFailed(f"click answered HTTP {response.status_code}")
        modal = _next_view(env, view_id, slack_mark, "confirmation")
        if not _is_confirmation(modal):
            raise ActionFailed("the modal was not a confirmation")
        submit_mark = len(env.slack.records())
        submission = view_submission(modal, view_id, {}, user_id=DEFAULT_USER)
        sent = time.perf_counter()
        response, submit_ack = _post(client, app.events_url, form(submission))
        if response.status_code != 200 or response.json().get("response_action") != "update":
            raise ActionFailed(f"submission answered HTTP {response.status_code}, not an update")
        try:
            card = env.receiver.wait_for(name, 1, STEP_TIMEOUT)[0]
        except TimeoutError as error:
            raise ActionFailed(f"no card within {STEP_TIMEOUT:.0f} s") from error
        confirm_to_card = card.at - sent
        done = EFFECTS[act.verb].done
        outcome = _next_view(env, view_id, submit_mark, "outcome")
        if done not in json.dumps(outcome, ensure_ascii=False):
            raise ActionFailed(f"the outcome did not say “{done}”")
        if not card.is_card:
            raise ActionFailed(f"the redraw was a notice, “{card.summary}”")
        put = _puts(env, nlpearl_mark)[-1:]
        answered = put[0].answered_at if put else None
        if answered is not None:
            redraw = card.at - answered
    except ActionFailed as error:
        problem: str | None = str(error)
    else:
        problem = None
    requests = env.nlpearl.requests()[nlpearl_mark:]
    puts = _puts(env, nlpearl_mark)
    if problem is None and len(puts) != 1:
        problem = f"{len(puts)} updates sent to NLPearl"
    sent_status = puts[0].json() if len(puts) == 1 else None
    new_status = sent_status.get("status") if isinstance(sent_status, dict) else None
    return Action(
        act.verb,
        click_ack,
        submit_ack,
        redraw,
        confirm_to_card,
        len(puts),
        len(requests),
        new_status if isinstance(new_status, int) else None,
        problem,
    )


def _puts(env: BenchEnvironment, mark: int) -> list[RecordedRequest]:
    """The lead's updates (PUTs) among NLPearl's requests since `mark`."""
    return [r for r in env.nlpearl.requests()[mark:] if r.method == "PUT" and LEAD_PATH in r.path]


def _help_ack(client: httpx.Client, app: ServerProcess, env: BenchEnvironment) -> float:
    """Seconds to the ack of one `/lead help`, which the app answers inside the ack."""
    body, headers = signed_command(HELP_TEXT, env.receiver.url("help"))
    sent = time.perf_counter()
    client.post(app.events_url, content=body, headers=headers).raise_for_status()
    return time.perf_counter() - sent


def _lookups(client: httpx.Client, app: ServerProcess, env: BenchEnvironment) -> list[float]:
    """Seconds from `/lead CAMPAIGN LEAD` to the card, one cold lookup first, one at a time."""
    totals = []
    for index in range(LOOKUPS + 1):
        name = f"lookup-{index}"
        body, headers = signed_command(LOOKUP_TEXT, env.receiver.url(name))
        sent = time.perf_counter()
        client.post(app.events_url, content=body, headers=headers).raise_for_status()
        arrival = env.receiver.wait_for(name, 1, STEP_TIMEOUT)[0]
        if not arrival.is_card:
            raise RuntimeError(f"the lookup was answered “{arrival.summary}”, not a card")
        totals.append(arrival.at - sent)
    return totals


def _card_button(client: httpx.Client, app: ServerProcess, env: BenchEnvironment) -> Any:
    """The value of the primary button on the lead's card as the app draws it now."""
    body, headers = signed_command(LOOKUP_TEXT, env.slack.response_url("probe"))
    client.post(app.events_url, content=body, headers=headers).raise_for_status()
    card = env.slack.wait_for_responses(1, "probe", timeout=STEP_TIMEOUT)[0]
    button = buttons(card).get(ActionId.LEAD_PRIMARY.value) or {}
    return json.loads(button["value"]) if "value" in button else None


def run() -> Outcome:
    """Lookups for the baseline, then ACTIONS actions one at a time, each after a `/lead help`."""
    began = time.perf_counter()
    with (
        bench_environment(nlpearl_latency=LATENCY) as env,
        httpx.Client(timeout=HTTP_TIMEOUT) as client,
    ):
        env.slack.add_user(DEFAULT_USER, "tess", is_admin=True)
        app = env.start_app()
        status, calls = _status_of_lead(client, env)
        drawn = _card_button(client, app, env)
        expected = json.loads(_act_ref(status).value())
        lookups = _lookups(client, app, env)
        log(f"actions: lookup baseline median {median(lookups[1:]) * 1000:.0f} ms")
        helps: list[float] = []
        actions: list[Action] = []
        for number in range(ACTIONS + 1):
            helps.append(_help_ack(client, app, env))
            action = _act(client, env, app, number, status)
            actions.append(action)
            if action.problem is None and action.new_status is not None:
                status = action.new_status
            else:
                log(f"action {number} ({action.verb.value}): {action.problem}")
                status, _ = _status_of_lead(client, env)  # what the next card would show
        problems = log_problems(app)
        error = first_error(app)
    return _judge(
        actions=actions[1:],
        helps=helps[1:],
        lookups=lookups,
        calls=calls,
        button_matches=drawn == expected,
        problems=problems,
        error=error,
        seconds=time.perf_counter() - began,
    )


def _ms(values: list[float | None]) -> list[float]:
    return [value * 1000 for value in values if value is not None]


def _spread(ms: list[float]) -> str:
    """ "p50 / p99 / max" of some latencies in ms."""
    if not ms:
        return "none measured"
    return f"{median(ms):.1f} / {percentile(ms, 0.99):.1f} / {max(ms):.1f} ms"


def _judge(
    *,
    actions: list[Action],
    helps: list[float],
    lookups: list[float],
    calls: int,
    button_matches: bool,
    problems: dict[str, int],
    error: str | None,
    seconds: float,
) -> Outcome:
    round_trip_ms = LATENCY * 1000
    clicks = _ms([a.click_ack for a in actions])
    submits = _ms([a.submit_ack for a in actions])
    redraws = _ms([a.redraw for a in actions])
    confirm_to_card = _ms([a.confirm_to_card for a in actions])
    help_ms = _ms(list(helps))
    lookup_ms = _ms(list(lookups[1:]))
    failures = Counter(a.problem for a in actions if a.problem)
    failed = sum(failures.values())
    wrong_puts = sum(a.puts != 1 for a in actions)
    verbs = Counter(EFFECTS[a.verb].label for a in actions)
    click_p99 = percentile(clicks, 0.99) if clicks else float("inf")
    submit_p99 = percentile(submits, 0.99) if submits else float("inf")
    redraw_median = median(redraws) if redraws else float("inf")
    bound_ms = MAX_REDRAW_ROUND_TRIPS * round_trip_ms
    passed = (
        click_p99 < MAX_P99_MS
        and submit_p99 < MAX_P99_MS
        and redraw_median < bound_ms
        and failed == 0
        and len(redraws) == len(actions)
    )
    help_p50 = median(help_ms)

    def trips(ms: float) -> str:
        return f"{ms:.0f} ms = {ms / round_trip_ms:.2f} round trips"

    figures = [
        (
            "Actions timed (after one warm-up)",
            f"{len(actions)}, one at a time, on the lead with {calls} calls: "
            + ", ".join(f"{count} × {label}" for label, count in verbs.items()),
        ),
        ("Click ack p50 / p99 / max", _spread(clicks)),
        ("Confirmation ack p50 / p99 / max", _spread(submits)),
        (f"Baseline: `/lead help` ack p50 / p99 / max ({len(help_ms)})", _spread(help_ms)),
        (
            "Action ack p50 / help ack p50, click; confirmation",
            f"{median(clicks) / help_p50:.2f}×; {median(submits) / help_p50:.2f}×"
            if clicks and submits
            else "not measured",
        ),
        (
            "Redraw: NLPearl's update answer to card, median",
            trips(redraw_median) if redraws else "none measured",
        ),
        (
            "Redraw: NLPearl's update answer to card, max",
            trips(max(redraws)) if redraws else "none measured",
        ),
        (
            f"Baseline: lookup, command to card, median of {len(lookup_ms)}",
            trips(median(lookup_ms)),
        ),
        (
            "Confirmation sent to card, median",
            trips(median(confirm_to_card)) if confirm_to_card else "none measured",
        ),
        (
            "NLPearl requests per action (click and confirmation), median",
            f"{median([float(a.requests) for a in actions]):.0f}",
        ),
        ("Actions without exactly one update sent", f"{wrong_puts} of {len(actions)}"),
        (
            "Failed actions",
            f"{failed} of {len(actions)}"
            + "".join(f"; {count} × {text}" for text, count in failures.most_common(3)),
        ),
        (
            "Card's primary button carries the value the clicks sent",
            "yes" if button_matches else "no",
        ),
        (
            "App log",
            ", ".join(f"{count:,} {kind}" for kind, count in problems.items()) or "clean",
        ),
    ]
    notes = [
        "An action costs NLPearl four sequential round trips: the click reads the lead to "
        "confirm against; the confirmation reads it again (it may have changed while the modal "
        "was open), sends the update, then fetches the lead's newest calls in parallel for the "
        "card, which is drawn from the lead the update answered with.",
    ]
    if not button_matches:
        notes.append(
            "The lead card's `lead.act` button did not carry the ActRef the benchmark sends, so "
            "the clicks may not be what a person's would be."
        )
    if error:
        notes.append(f"First error in the app's log: {error}")
    return Outcome(
        title="Action latency",
        measures=(
            "How fast the app acknowledges a click on a lead card's action button and the "
            "confirmation that follows, and how soon after NLPearl confirms the change the "
            "redrawn card arrives, in NLPearl round trips."
        ),
        method=(
            f"The real app via `start_server`, the NLPearl stand-in answering every request "
            f"after {round_trip_ms:.0f} ms, the signed-in person a workspace admin on the Slack "
            f"stand-in. One warm-up action, then {ACTIONS} actions one at a time on the sample "
            f"lead with 10 calls, each the verb the card's primary button offers for the lead's "
            f"status (so Call again and Stop calling alternate): a signed `block_actions` click "
            f"carrying the button's value, a wait for the confirmation modal (views.update), a "
            f"signed `view_submission`, then waits for the redrawn card at the click's "
            f"response_url (a receiver that timestamps arrivals) and for the outcome modal. Acks "
            f"are timed from just before sending to the HTTP answer. The redraw is timed from "
            f"when the NLPearl stand-in had its answer to the update ready (`answered_at`, the "
            f"receiver's clock) to the card's arrival. Baselines in the same run: a `/lead help` "
            f"before each action (answered inside the ack) and {LOOKUPS} lookups of the same "
            f"lead after a cold one, timed from command to card."
        ),
        goal=(
            f"Click and confirmation acks p99 < {MAX_P99_MS:.0f} ms (the lookup ack target); the "
            f"refreshed card arrives within one NLPearl round trip of the update's answer: "
            f"median < {MAX_REDRAW_ROUND_TRIPS} round trips ({bound_ms:.0f} ms); every action "
            f"confirmed, sent to NLPearl exactly once and redrawn as a card."
        ),
        passed=passed,
        figures=figures,
        notes=notes,
        seconds=seconds,
    )
