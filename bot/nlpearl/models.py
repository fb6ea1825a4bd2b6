"""Pydantic models of NLPearl's leads, calls, campaigns and analytics, liberal in what they accept.

NLPearl's V2 JSON is camelCase, V1 webhooks have been seen in PascalCase, and many fields are
undocumented or null. Keys are matched case-insensitively, and a value that cannot be read
becomes None rather than failing the whole lead.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Annotated, Any, TypeVar

from pydantic import (
    AliasChoices,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    model_validator,
)
from pydantic.alias_generators import to_camel


def _int_or_none(value: Any) -> int | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value
    try:
        number = float(str(value).strip())
    except ValueError:
        return None
    return int(number) if math.isfinite(number) else None


def _float_or_none(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(str(value).strip())
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _str_or_none(value: Any) -> str | None:
    if value is None or isinstance(value, dict | list):
        return None
    text = str(value).strip()
    return text or None


def _datetime_or_none(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str) and value.strip():
        try:
            moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
    else:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _bool_or_none(value: Any) -> bool | None:
    if isinstance(value, bool) or value is None:
        return value
    return {"true": True, "false": False, "1": True, "0": False}.get(str(value).strip().lower())


def _list_or_empty(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _dict_or_empty(value: Any) -> dict[str, Any]:
    return {str(k): v for k, v in value.items()} if isinstance(value, dict) else {}


def _str_list(value: Any) -> list[str]:
    return [text for item in _list_or_empty(value) if (text := _str_or_none(item))]


LooseInt = Annotated[int | None, BeforeValidator(_int_or_none)]
LooseFloat = Annotated[float | None, BeforeValidator(_float_or_none)]
LooseBool = Annotated[bool | None, BeforeValidator(_bool_or_none)]
LooseStr = Annotated[str | None, BeforeValidator(_str_or_none)]
LooseDatetime = Annotated[datetime | None, BeforeValidator(_datetime_or_none)]
StrList = Annotated[list[str], BeforeValidator(_str_list)]
JsonObject = Annotated[dict[str, Any], BeforeValidator(_dict_or_empty)]


_KEY_MAPS: dict[type[BaseModel], dict[str, str]] = {}


def _names_by_lower_key(model: type[BaseModel]) -> dict[str, str]:
    """Map every accepted key of a model, lower-cased, to its field name (memoised)."""
    if model not in _KEY_MAPS:
        keys: dict[str, str] = {}
        for name, field in model.model_fields.items():
            keys[name.lower()] = name
            if field.alias:
                keys[field.alias.lower()] = name
            if isinstance(field.validation_alias, AliasChoices):
                keys.update(
                    (str(choice).lower(), name) for choice in field.validation_alias.choices
                )
        _KEY_MAPS[model] = keys
    return _KEY_MAPS[model]


class NLPearlModel(BaseModel):
    """Base: camelCase aliases, keys matched in any casing, unknown keys ignored."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="ignore", frozen=True
    )

    @classmethod
    def _prepare(cls, data: dict[str, Any]) -> dict[str, Any]:
        """Reshape a raw body before its keys are matched; subclasses override."""
        return data

    @model_validator(mode="before")
    @classmethod
    def _match_keys_in_any_case(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        by_lower = _names_by_lower_key(cls)
        matched: dict[str, Any] = {}
        for key, value in cls._prepare(data).items():
            name = by_lower.get(str(key).lower())
            if name is not None and name not in matched:
                matched[name] = value
        return matched


class TranscriptMessage(NLPearlModel):
    """One turn of a call transcript."""

    role: LooseInt = None
    content: LooseStr = None
    start_time: LooseFloat = None
    end_time: LooseFloat = None


class CollectedInfo(NLPearlModel):
    """One answer collected on a call: variable id, display name and any JSON value."""

    id: LooseStr = None
    name: LooseStr = None
    value: Any = None


def _transcript(value: Any) -> list[TranscriptMessage]:
    return [
        TranscriptMessage.model_validate(m) for m in _list_or_empty(value) if isinstance(m, dict)
    ]


def _collected_info(value: Any) -> list[CollectedInfo]:
    return [CollectedInfo.model_validate(i) for i in _list_or_empty(value) if isinstance(i, dict)]


class Call(NLPearlModel):
    """A call, from Get Call, a lead's `lastCall`, or the Call Webhook."""

    id: LooseStr = None
    pearl_id: LooseStr = None
    related_id: LooseStr = None
    lead_id: LooseStr = None
    start_time: LooseDatetime = None
    conversation_status: LooseInt = None
    status: LooseInt = None
    from_number: LooseStr = Field(default=None, validation_alias=AliasChoices("from", "fromNumber"))
    to: LooseStr = None
    name: LooseStr = None
    duration: LooseFloat = None
    recording: LooseStr = Field(
        default=None, validation_alias=AliasChoices("recording", "recordingUrl")
    )
    transcript: Annotated[list[TranscriptMessage], BeforeValidator(_transcript)] = []
    summary: LooseStr = None
    collected_info: Annotated[list[CollectedInfo], BeforeValidator(_collected_info)] = Field(
        default=[], validation_alias=AliasChoices("collectedInfo", "collectedInfos")
    )
    tags: StrList = []
    is_call_transferred: LooseBool = None
    overall_sentiment: LooseInt = None

    @classmethod
    def _prepare(cls, data: dict[str, Any]) -> dict[str, Any]:
        # A lead's `lastCall` nests transcript and answers under `collectedData`.
        nested = next((v for k, v in data.items() if str(k).lower() == "collecteddata"), None)
        if not isinstance(nested, dict):
            return data
        lifted = dict(data)
        present = {str(k).lower(): k for k, v in data.items() if v is not None}
        for key, value in nested.items():
            if str(key).lower() not in present:
                lifted[key] = value
        return lifted

    @property
    def recording_url(self) -> str | None:
        """The recording URL if it is an http(s) link, which is all a button may open."""
        url = self.recording
        return url if url and url.startswith(("https://", "http://")) else None


class Lead(NLPearlModel):
    """A lead of an outbound campaign (`LeadApiView`), or a Lead Webhook body."""

    id: LooseStr = None
    pearl_id: LooseStr = None
    external_id: LooseStr = None
    phone_number: LooseStr = None
    time_zone: LooseStr = None
    status: LooseInt = None
    created: LooseDatetime = None
    calls_id: StrList = []
    last_call: Call | None = None
    call_data: JsonObject = {}
    collected_data: JsonObject = {}

    @classmethod
    def _prepare(cls, data: dict[str, Any]) -> dict[str, Any]:
        return {
            k: v for k, v in data.items() if str(k).lower() != "lastcall" or isinstance(v, dict)
        }


class Pearl(NLPearlModel):
    """A campaign: a V2 Pearl or a V1 Outbound, with Get Pearl's live numbers when sent."""

    id: LooseStr = None
    name: LooseStr = None
    type: LooseInt = None
    status: LooseInt = None
    phone_number: LooseStr = None
    total_agents: LooseInt = None
    created: LooseDatetime = None
    # Documented as int32, but a budget is money: a fraction must not be lost or refused.
    budget_consumed: LooseFloat = None
    budget_total: LooseFloat = None
    total_today_calls: LooseInt = None
    total_ongoing_calls: LooseInt = None
    total_on_queue: LooseInt = None
    total_leads: LooseInt = None
    total_leads_completed: LooseInt = None
    total_leads_success: LooseInt = None


class Account(NLPearlModel):
    """The NLPearl account: its credit and whether it may place calls."""

    name: LooseStr = None
    total_agents: LooseInt = None
    credit_balance: LooseFloat = None
    status: LooseInt = None
    remaining_minutes: LooseFloat = None


def _leads(value: Any) -> list[Lead]:
    return [Lead.model_validate(row) for row in _list_or_empty(value) if isinstance(row, dict)]


class LeadPage(NLPearlModel):
    """One page of Search Leads: the slim lead rows and how many leads match in all."""

    count: LooseInt = None
    results: Annotated[list[Lead], BeforeValidator(_leads)] = Field(
        default=[], validation_alias=AliasChoices("results", "items", "leads")
    )


class StatusOverview(NLPearlModel):
    """How many calls ended in each outcome, over a range or on one day."""

    total_calls: LooseInt = None
    total_leads: LooseInt = None
    need_retry: LooseInt = None
    wrong_country_code: LooseInt = None
    need_follow_up: LooseInt = None
    # Keys match in any casing, so NLPearl's `voiceMailLeft` lands here too.
    voicemail_left: LooseInt = None
    successful: LooseInt = None
    unsuccessful: LooseInt = None
    wrong_number: LooseInt = None
    completed: LooseInt = None
    unreachable: LooseInt = None
    error: LooseInt = None


class CallEvents(NLPearlModel):
    """How many times calls booked, transferred, took a message, texted or e-mailed."""

    calendar_booked: LooseInt = Field(
        default=None, validation_alias=AliasChoices("calendarBookedCount", "calendarBooked")
    )
    call_transferred: LooseInt = Field(
        default=None, validation_alias=AliasChoices("callTransferredCount", "callTransferred")
    )
    take_message: LooseInt = Field(
        default=None, validation_alias=AliasChoices("takeMessageCount", "takeMessage")
    )
    sms_sent: LooseInt = Field(
        default=None, validation_alias=AliasChoices("smsSentCount", "smsSent")
    )
    email_sent: LooseInt = Field(
        default=None, validation_alias=AliasChoices("emailSentCount", "emailSent")
    )


_Reading = TypeVar("_Reading")


def _utc_date_or_none(value: Any) -> date | None:
    """The UTC calendar day of a date-time or date string (naive means UTC), if readable."""
    moment = _datetime_or_none(value)
    if moment is None:
        return None
    try:
        return moment.astimezone(UTC).date()
    except OverflowError:
        # An offset can push a moment at either end of the calendar past what datetime holds.
        return None


def _by_day(value: Any, read: Callable[[dict[str, Any]], _Reading | None]) -> dict[date, _Reading]:
    """A timeline keyed by UTC day; entries whose day or reading cannot be read are dropped."""
    days: dict[date, _Reading] = {}
    for entry in _list_or_empty(value):
        if not isinstance(entry, dict):
            continue
        day = _utc_date_or_none(_value_at(entry, "date"))
        reading = read(entry)
        if day is not None and reading is not None:
            # Timelines are daily; should a day come twice, the later entry stands.
            days[day] = reading
    return days


def _value_at(entry: dict[str, Any], key: str) -> Any:
    """The value under `key` in any casing, or None."""
    return next((v for k, v in entry.items() if str(k).lower() == key.lower()), None)


def _percent_or_none(value: Any) -> float | None:
    # NLPearl names these fields "...Percentage", so a value is read as 0-100, never scaled:
    # 0.5 means half a percent. A fraction can't be told from a small percent, so none is guessed.
    if isinstance(value, str):
        value = value.strip().removesuffix("%")
    return _float_or_none(value)


def _status_overview(value: Any) -> StatusOverview:
    return StatusOverview.model_validate(value) if isinstance(value, dict) else StatusOverview()


def _call_events(value: Any) -> CallEvents:
    return CallEvents.model_validate(value) if isinstance(value, dict) else CallEvents()


def _status_by_day(value: Any) -> dict[date, StatusOverview]:
    return _by_day(value, StatusOverview.model_validate)


def _pickup_rate_by_day(value: Any) -> dict[date, float]:
    return _by_day(value, lambda entry: _percent_or_none(_value_at(entry, "pickupRatePercentage")))


def _success_rate_by_day(value: Any) -> dict[date, float]:
    return _by_day(value, lambda entry: _percent_or_none(_value_at(entry, "successRatePercentage")))


def _cost_by_day(value: Any) -> dict[date, float]:
    return _by_day(value, lambda entry: _float_or_none(_value_at(entry, "totalPrice")))


class Analytics(NLPearlModel):
    """A campaign's Analytics over a range: outcomes, daily timelines (by UTC day) and events."""

    status_overview: Annotated[StatusOverview, BeforeValidator(_status_overview)] = Field(
        default_factory=StatusOverview,
        validation_alias=AliasChoices("callsStatusOverview"),
    )
    status_by_day: Annotated[dict[date, StatusOverview], BeforeValidator(_status_by_day)] = Field(
        default={}, validation_alias=AliasChoices("callsStatusTimeLine")
    )
    # Percentages (0-100), as NLPearl names them.
    pickup_rate_by_day: Annotated[dict[date, float], BeforeValidator(_pickup_rate_by_day)] = Field(
        default={}, validation_alias=AliasChoices("callsPickupRateTimeLine")
    )
    success_rate_by_day: Annotated[dict[date, float], BeforeValidator(_success_rate_by_day)] = (
        Field(default={}, validation_alias=AliasChoices("callsSuccessRateTimeLine"))
    )
    cost_by_day: Annotated[dict[date, float], BeforeValidator(_cost_by_day)] = Field(
        default={}, validation_alias=AliasChoices("callsCostTimeLine")
    )
    events: Annotated[CallEvents, BeforeValidator(_call_events)] = Field(
        default_factory=CallEvents,
        validation_alias=AliasChoices("callEventsCounts"),
    )
