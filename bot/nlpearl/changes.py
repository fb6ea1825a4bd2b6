"""What Lead Bot sends NLPearl to change or add a lead (Update Lead and Add Lead bodies)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel


class _Body(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True)

    def body(self) -> dict[str, Any]:
        """The JSON body: camelCase keys, and only the fields that were set."""
        return self.model_dump(by_alias=True, exclude_none=True)


class LeadUpdate(_Body):
    """Update Lead (§3.1.7): every field optional; only the fields set are sent and changed."""

    phone_number: str | None = None
    external_id: str | None = None
    # A Windows zone name, e.g. "Pacific Standard Time".
    time_zone_id: str | None = None
    call_data: dict[str, Any] | None = None
    status: int | None = None

    @property
    def empty(self) -> bool:
        """Whether there is nothing to send."""
        return not self.body()


class NewLead(_Body):
    """Add Lead (§3.1.5)."""

    phone_number: str
    external_id: str | None = None
    time_zone_id: str | None = None
    call_data: dict[str, Any] | None = None
