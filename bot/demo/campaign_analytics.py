"""The sandbox campaign's Analytics answer, counted from its calls and leads (pure)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

Json = dict[str, Any]

# Conversation statuses (§4.2) by the Analytics overview key that counts them.
OVERVIEW_KEYS = {
    10: "needRetry",
    70: "voiceMailLeft",
    100: "successful",
    110: "unsuccessful",
    130: "completed",
    150: "unreachable",
    500: "error",
}
WRONG_COUNTRY_CODE = 30
SENTIMENT_KEYS = ("negative", "slightlyNegative", "neutral", "slightlyPositive", "positive")
TAG_COLORS = ("#2eb67d", "#e01e5a", "#36c5f0", "#ecb22e", "#4a154b", "#1264a3")
ANSWERED = 4


def analytics(now: datetime, calls: list[Json], lead_counts: dict[int, int], spent: float) -> Json:
    """The shape the stand-in's `_empty_analytics` builds, with today's real counts."""
    today = f"{now.astimezone(UTC).date().isoformat()}T00:00:00Z"
    statuses = _status_overview(calls, lead_counts)
    answered = [call for call in calls if call["status"] == ANSWERED]
    talked = sum(call["duration"] for call in answered)
    return {
        "callsStatusOverview": statuses,
        "callsSentimentOverview": _sentiments(calls),
        "callsStatusTimeLine": [{"date": today, **statuses}],
        "callsAverageTimeLine": [
            {
                "date": today,
                "averageCallDuration": round(talked / len(answered), 1) if answered else 0,
            }
        ],
        "callsCostTimeLine": [
            {
                "date": today,
                "totalPrice": round(spent, 2),
                "averageCostPerCall": round(spent / len(calls), 3) if calls else 0,
            }
        ],
        "callsPickupRateTimeLine": [
            {"date": today, "pickupRatePercentage": _percent(len(answered), len(calls))}
        ],
        "callsSuccessRateTimeLine": [
            {
                "date": today,
                "successRatePercentage": _percent(statuses["successful"], len(answered)),
            }
        ],
        "callLabelCount": _labels(calls),
        "callEventsCounts": {
            "takeMessageCount": 0,
            "smsSentCount": 0,
            "callTransferredCount": sum(bool(call["isCallTransferred"]) for call in calls),
            "calendarBookedCount": statuses["successful"],
            "emailSentCount": statuses["completed"],
        },
        "callsByHourDayOfWeeks": _by_hour(calls),
    }


def _status_overview(calls: list[Json], lead_counts: dict[int, int]) -> Json:
    outcomes = Counter(call["conversationStatus"] for call in calls)
    overview: Json = {
        "totalCalls": len(calls),
        "totalLeads": sum(lead_counts.values()),
        "needRetry": 0,
        "wrongCountryCode": lead_counts.get(WRONG_COUNTRY_CODE, 0),
        "needFollowUp": 0,
        "voiceMailLeft": 0,
        "successful": 0,
        "unsuccessful": 0,
        "wrongNumber": 0,
        "completed": 0,
        "unreachable": 0,
        "error": 0,
    }
    for status, key in OVERVIEW_KEYS.items():
        overview[key] = outcomes[status]
    return overview


def _sentiments(calls: list[Json]) -> Json:
    scores = Counter(call["overallSentiment"] for call in calls)
    return {key: scores[score] for score, key in enumerate(SENTIMENT_KEYS, start=1)}


def _labels(calls: list[Json]) -> list[Json]:
    tags = Counter(tag for call in calls for tag in call["tags"])
    return [
        {
            "id": f"tag-{index}",
            "name": tag,
            "color": TAG_COLORS[index % len(TAG_COLORS)],
            "count": n,
        }
        for index, (tag, n) in enumerate(sorted(tags.items()))
    ]


def _by_hour(calls: list[Json]) -> list[Json]:
    slots = Counter(
        (moment.hour, moment.isoweekday() % 7)
        for moment in (
            datetime.fromisoformat(call["startTime"].replace("Z", "+00:00")) for call in calls
        )
    )
    return [
        {"hourOfDay": hour, "dayOfWeek": day, "count": n}
        for (hour, day), n in sorted(slots.items())
    ]


def _percent(part: int, whole: int) -> float:
    return round(100 * part / whole, 1) if whole else 0
