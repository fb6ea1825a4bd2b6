"""Write the Block Kit JSON of each of the README's pictures into docs/images/NAME.json.

The PNGs beside them are rendered from these JSON files with any Block Kit renderer (or pasted
into Slack's Block Kit Builder and captured), so a picture only changes when its JSON does.

Usage: .venv/bin/python scripts/render_pictures.py [FOLDER]   (FOLDER defaults to docs/images)
"""

from __future__ import annotations

import base64
import json
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.app.sample import SAMPLE_CAMPAIGN_ID, SAMPLE_LEAD_ID, sample_report
from bot.blocks import messages, views
from bot.blocks.alerts import alert_message
from bot.blocks.campaign_card import campaign_card, confirm_campaign_view
from bot.blocks.chart import daily_chart_png
from bot.blocks.connection import Connection, connected_modal
from bot.blocks.digest import digest_message
from bot.blocks.home import AdminHome, HomeCampaign, Setup, home_view
from bot.blocks.ids import ActRef, CallsRef, CampaignPending, CampaignRef, CardRef, Pending
from bot.blocks.lead_actions import confirm_view, denied_message, thread_note
from bot.blocks.lead_card import lead_card
from bot.blocks.lead_forms import add_lead_view, edit_lead_view
from bot.blocks.notifications import StatusChange, parent_message, thread_reply
from bot.nlpearl.lead_actions import Verb
from bot.nlpearl.models import Account, Pearl
from bot.parsing.lead_form import fingerprint
from bot.parsing.message_leads import AddPrefill
from bot.records import LeadSnapshot
from bot.reports import Alert, AlertKind, DayPoint, Digest, Rate
from bot.storage.rows import (
    ActionRecord,
    DigestInfo,
    Grants,
    RecentLookup,
    SubscriptionInfo,
    Workspace,
)

IMAGES = Path(__file__).resolve().parents[1] / "docs" / "images"
# A fixed moment, so pictures only change when the card does (18:42 UTC is 10:42 for the lead).
NOW = datetime(2026, 11, 27, 18, 42, tzinfo=UTC)


def pictures() -> dict[str, dict[str, Any]]:
    """Every picture's name and message."""
    ref = CardRef(campaign_id=SAMPLE_CAMPAIGN_ID, kind="id", key=SAMPLE_LEAD_ID)
    shared = ref.model_copy(update={"shared_by": "U0SAMPLE"})
    report = sample_report()
    card_in_modal = lead_card(report, ref, now=NOW, mask=False, surface="modal")
    latest = report.calls[0].call
    assert latest is not None
    return {
        "lead-card": lead_card(report, ref, now=NOW, mask=False),
        "shared-card": lead_card(report, shared, now=NOW, mask=True),
        "feed": feed_thread(),
        "lookup-modal": views.lookup_modal(campaign=(SAMPLE_CAMPAIGN_ID, report.campaign_name)),
        "card-modal": views.card_modal(card_in_modal, ""),
        "calls-modal": views.calls_modal(
            CallsRef(campaign_id=SAMPLE_CAMPAIGN_ID, lead_id=SAMPLE_LEAD_ID),
            list(report.calls),
            len(report.calls),
            lead_label="Maria Gonzalez",
        ),
        "transcript-modal": views.transcript_modal(latest, 0),
        "home": home_view(
            Setup(nlpearl_problem=None, database_problem=None),
            [
                SubscriptionInfo("C0SALES", SAMPLE_CAMPAIGN_ID, None, NOW, None, None),
                SubscriptionInfo("C0WINS", SAMPLE_CAMPAIGN_ID, (100,), NOW, None, None),
            ],
            [RecentLookup(SAMPLE_CAMPAIGN_ID, SAMPLE_LEAD_ID, "Maria Gonzalez", NOW)],
            admin_home(),
            campaigns=[HomeCampaign(SAMPLE_CAMPAIGN_ID, "Solar – Spring Re-engagement")],
            digests=[
                DigestInfo(
                    id=1,
                    workspace=Workspace("T0SAMPLE"),
                    channel_id="C0SALES",
                    campaign_id=SAMPLE_CAMPAIGN_ID,
                    at_time="09:00",
                    time_zone="America/New_York",
                    next_due_at=NOW,
                    created_by="U0TESS",
                    problem=None,
                )
            ],
            names={SAMPLE_CAMPAIGN_ID: "Solar – Spring Re-engagement"},
        ),
        # A workspace that installed Lead Bot but has not connected NLPearl yet (multi-workspace).
        "home-connect": home_view(
            Setup(nlpearl_problem="not connected yet.", database_problem=None),
            [],
            [],
            connection=Connection(None, None, None, may_change=True),
        ),
        "connected-modal": connected_modal(
            "acct7Kd2",
            Account(name="Acme Calls", credit_balance=250.5, remaining_minutes=1840),
        ),
        "confirm-modal": confirm_view(
            Pending(act=act(Verb.STOP, 10)), "Maria Gonzalez", "+1 415-555-0137"
        ),
        "edit-modal": edit_lead_view(
            report.lead,
            Pending(act=act(Verb.EDIT, 100), fingerprint=fingerprint(report.lead)),
            now=NOW,
            title_name="Maria Gonzalez",
        ),
        "add-modal": add_lead_view(
            views.campaign_input((SAMPLE_CAMPAIGN_ID, report.campaign_name)),
            prefill=AddPrefill(phone="+16175550199", first_name="Dana", last_name="Whitfield"),
            private_metadata="",
            now=NOW,
        ),
        "campaign-card": campaign_card(
            sample_campaign(),
            campaign_id=SAMPLE_CAMPAIGN_ID,
            account=Account(credit_balance=6.4, status=1),
            last_webhook=NOW,
            now=NOW,
            ref=CampaignRef(campaign_id=SAMPLE_CAMPAIGN_ID, seen_status=1),
            days=sample_digest().days,
        ),
        "campaign-confirm": confirm_campaign_view(
            CampaignPending(campaign_id=SAMPLE_CAMPAIGN_ID, active=False, seen_status=1),
            "Solar – Spring Re-engagement",
        ),
        "action-notes": stacked(
            thread_note(Verb.STOP, "tess", NOW),
            thread_note(Verb.WON, "sam", NOW),
            denied_message(),
        ),
        "digest": digest_picture(),
        "alert": stacked(
            alert_message(sample_alert(started=True)), alert_message(sample_alert(started=False))
        ),
        "help": messages.help_message(),
        # Short messages share one picture rather than making four thin ones.
        "errors": stacked(
            messages.usage_problem(
                "That looks like only one ID. Give the campaign and then the lead."
            ),
            messages.lead_not_found(SAMPLE_CAMPAIGN_ID, "crm-009999"),
            messages.nlpearl_rejected_key(),
            messages.nlpearl_unavailable(),
        ),
    }


def sample_campaign() -> Pearl:
    """The sample campaign with the numbers Get Pearl gives."""
    return Pearl.model_validate(
        {
            "id": SAMPLE_CAMPAIGN_ID,
            "name": "Solar – Spring Re-engagement",
            "type": 2,
            "status": 1,
            "phoneNumber": "+12125550100",
            "budgetConsumed": 312,
            "budgetTotal": 1500,
            "totalTodayCalls": 87,
            "totalOngoingCalls": 3,
            "totalLeads": 1240,
            "totalLeadsCompleted": 402,
            "totalLeadsSuccess": 133,
        }
    )


def sample_digest() -> Digest:
    """Yesterday for the sample campaign, with a fortnight of days behind it."""
    calls = [96, 104, 41, 0, 118, 131, 109, 122, 97, 38, None, 126, 140, 112]
    rates = [11.5, 12.0, 9.8, None, 13.1, 12.6, 10.9, 14.2, 11.8, 8.0, None, 12.9, 13.4, 12.5]
    last = date(2026, 11, 26)
    days = tuple(
        DayPoint(last - timedelta(days=13 - n), count, rate)
        for n, (count, rate) in enumerate(zip(calls, rates, strict=True))
    )
    return Digest(
        campaign_id=SAMPLE_CAMPAIGN_ID,
        campaign_name="Solar – Spring Re-engagement",
        day=last,
        time_zone="America/New_York",
        calls=112,
        outcomes=(
            ("✅ Success", 14),
            ("❌ Not successful", 29),
            ("📼 Voicemail left", 38),
            ("🔁 Needs retry", 24),
            ("📵 Unreachable", 4),
            ("⚠️ Error", 3),
        ),
        reached=Rate(61.6, 58.2),
        success=Rate(12.5, 12.1),
        voicemail=Rate(33.9, 36.4),
        bookings=9,
        transfers=3,
        budget_used=312,
        budget_total=1500,
        attention=7,
        days=days,
        differences=(
            "NLPearl counted 112 calls; the feed received 110 call results "
            "(2 webhook(s) may not have arrived).",
        ),
        chart_file_id="F0SAMPLECHART",
        late_by=timedelta(minutes=42),
    )


def digest_picture() -> dict[str, Any]:
    """The digest with its chart; in Slack a file, here the PNG itself in a data URL."""
    digest = sample_digest()
    png = daily_chart_png(digest.days, title="Solar – Spring Re-engagement · last 14 days")
    message = digest_message(digest)
    for block in message["blocks"]:
        if block["type"] == "image":
            del block["slack_file"]
            block["image_url"] = "data:image/png;base64," + base64.b64encode(png).decode()
    return message


def sample_alert(*, started: bool) -> Alert:
    """The sample campaign running out of credit, and getting it back 2 h 10 min later."""
    since = NOW - timedelta(hours=2, minutes=10)
    return Alert(
        kind=AlertKind.NO_CREDIT,
        started=started,
        campaign_id=SAMPLE_CAMPAIGN_ID,
        campaign_name="Solar – Spring Re-engagement",
        since=since,
        at=since if started else NOW,
        figures={"credit": 0.0},
    )


def act(verb: Verb, status: int) -> ActRef:
    """An action on the sample lead, as its button carries it."""
    return ActRef(
        verb=verb, campaign_id=SAMPLE_CAMPAIGN_ID, lead_id=SAMPLE_LEAD_ID, seen_status=status
    )


def admin_home() -> AdminHome:
    """What an admin's Home tab adds: who may act, and the latest actions."""
    team = Workspace("T0SAMPLE")
    stopped = ActionRecord(
        team, "U0TESS", SAMPLE_CAMPAIGN_ID, SAMPLE_LEAD_ID, "stop", 10, "applied", NOW, 130
    )
    refused = ActionRecord(
        team,
        "U0SAM",
        SAMPLE_CAMPAIGN_ID,
        SAMPLE_LEAD_ID,
        "won",
        130,
        "denied",
        NOW,
        detail="not a workspace admin or owner, nor granted the right to act",
    )
    grants = Grants(users=("U0TESS",), usergroups=("S0SALES",))
    return AdminHome(grants, {"S0SALES": "sales-leads"}, [stopped, refused], mask=True)


def feed_thread() -> dict[str, Any]:
    """A feed parent and the reply under it, as one picture."""
    report = sample_report()
    snapshot = LeadSnapshot(
        campaign_id=SAMPLE_CAMPAIGN_ID,
        campaign_name=report.campaign_name,
        lead_id=SAMPLE_LEAD_ID,
        name="Maria Gonzalez",
        phone="+14155550137",
        status=100,
        calls=3,
        answers={"Preferred day": "Thursday", "Wants battery": True},
        updated_at=NOW,
    )
    latest = report.calls[0].call
    assert latest is not None
    reply = thread_reply([StatusChange(40, 100, NOW)], [latest])
    assert reply is not None
    parent = parent_message(snapshot, mask=True)
    thread_label = {"type": "context", "elements": [{"type": "mrkdwn", "text": "↳ *In thread*"}]}
    return {
        "text": "",
        "blocks": [*parent["blocks"], {"type": "divider"}, thread_label, *reply["blocks"]],
    }


def stacked(*notices: dict[str, Any]) -> dict[str, Any]:
    """Several messages' blocks in one picture, divided."""
    blocks: list[dict[str, Any]] = []
    for notice in notices:
        blocks += [*notice["blocks"], {"type": "divider"}]
    return {"text": "", "blocks": blocks[:-1]}


def write_pictures(folder: Path) -> list[Path]:
    """Write every picture's Block Kit JSON into `folder`; the files written."""
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for name, message in pictures().items():
        target = folder / f"{name}.json"
        target.write_text(json.dumps(message, indent=2, ensure_ascii=False) + "\n")
        written.append(target)
    return written


def main() -> None:
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else IMAGES
    for path in write_pictures(folder):
        print(path)


if __name__ == "__main__":
    main()
