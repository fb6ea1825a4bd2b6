"""Pydantic models of NLPearl's leads, calls and campaigns, liberal in what they accept.

NLPearl's V2 JSON is camelCase, V1 webhooks have been seen in PascalCase, and many fields are
undocumented or null. Keys are matched case-insensitively, and a value that cannot be read
becomes None rather than failing the whole lead.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Annotated, Any

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
