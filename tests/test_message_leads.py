"""What "Add to a campaign" takes from a message: its numbers, a plain name, an external ID."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from bot.parsing.finder import find_leads
from bot.parsing.message_leads import AddPrefill, prefill_from_message
from tests.blocks.hostile import PROPERTIES, any_text, json_values, text_with_phones

E164 = re.compile(r"\+[1-9]\d{6,14}", re.ASCII)


def prefill(text: str) -> AddPrefill:
    return prefill_from_message({"type": "message", "text": text})


def name(text: str) -> tuple[str | None, str | None]:
    found = prefill(text)
    return found.first_name, found.last_name


# phone numbers


def test_every_number_in_order_the_first_one_to_add() -> None:
    found = prefill("Maria +1 (415) 555-0137, office +44 20 7183 8750, again +1 415 555 0137")
    assert found.phone == "+14155550137"
    assert found.other_phones == ("+442071838750",)


def test_dates_times_ids_and_slack_markup_are_not_numbers() -> None:
    found = prefill(
        "<!date^1741101730^{date}|2025-03-04> at 10:30, lead 6650f1c2a9e4b27d3c8e41a7, "
        "<@U0123456789>, ticket 4155550137"
    )
    assert found == AddPrefill()


def test_numbers_in_blocks_and_attachments_count() -> None:
    message = {
        "text": "",
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Call +1 415 555 0137"}}],
        "attachments": [{"fallback": "Backup: +44 20 7183 8750"}],
    }
    found = prefill_from_message(message)
    assert (found.phone, found.other_phones) == ("+14155550137", ("+442071838750",))


def test_a_message_without_a_number_prefills_nothing_but_what_it_labels() -> None:
    assert prefill("Name: Maria Gonzalez") == AddPrefill(first_name="Maria", last_name="Gonzalez")


def test_at_most_ten_numbers() -> None:
    text = " ".join(f"+1 415 555 01{n:02d}" for n in range(20))
    found = prefill(text)
    assert len(found.other_phones) == 9


# names


@pytest.mark.parametrize(
    "text",
    [
        "Maria Gonzalez +1 (415) 555-0137",
        "Maria Gonzalez: +1 415 555 0137",
        "Maria Gonzalez - 415-555-0137",
        "call Maria Gonzalez at +1 415 555 0137 tomorrow",
        "Please call Maria Gonzalez on +1 415 555 0137",
        "Maria Gonzalez's number is +1 415 555 0137",
        "+1 415 555 0137 (Maria Gonzalez)",
        "+1 415 555 0137 - Maria Gonzalez",
        "+1 415 555 0137 for Maria Gonzalez.",
        "New lead!\nName: Maria Gonzalez, phone +1 415 555 0137",
        "Name: Maria Gonzalez\nPhone: +1 415 555 0137",
        "First name: Maria\nLast name: Gonzalez\nPhone: +1 415 555 0137",
        "Contact: Maria Gonzalez (+1 415 555 0137)",
        "Hello, Maria Gonzalez +1 415 555 0137",
        "Hi team\nMaria Gonzalez +1 415 555 0137\nThanks",
    ],
)
def test_a_plain_name_beside_the_number_or_labelled(text: str) -> None:
    assert name(text) == ("Maria", "Gonzalez")


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("Seán O'Brien +353 1 234 5678", ("Seán", "O'Brien")),
        ("Anna Smith-Jones +1 415 555 0137", ("Anna", "Smith-Jones")),
        ("Name: Zoë", ("Zoë", None)),
        ("First name: Maria\n+1 415 555 0137", ("Maria", None)),
    ],
)
def test_names_in_other_shapes(text: str, found: tuple[str, str | None]) -> None:
    assert name(text) == found


@pytest.mark.parametrize(
    "text",
    [
        "+1 415 555 0137",
        "maria gonzalez +1 415 555 0137",
        "Located in San Francisco +1 415 555 0137",
        "Acme Roofing Maria Gonzalez +1 415 555 0137",
        "+1 415 555 0137 Maria Gonzalez Ruiz",
        "Maria GONZALEZ +1 415 555 0137",
        "USA Today +1 415 555 0137",
        "Call Monday +1 415 555 0137",
        "Campaign name: Spring Promo\n+1 415 555 0137",
        "Last name: Gonzalez +1 415 555 0137",
        "Name: Maria Gonzalez Called yesterday",
        "Name: Mary Ann Smith",
        "Gonzalez, Maria +1 415 555 0137",
        "Maria Gonzalez\n+1 415 555 0137",
        "Maria Gonzalez wrote that her neighbour's number is +1 415 555 0137",
    ],
)
def test_no_name_rather_than_a_wrong_one(text: str) -> None:
    assert name(text) == (None, None)


def test_the_name_beside_the_first_number_not_another() -> None:
    text = "+44 20 7183 8750 (office)\nMaria Gonzalez +1 415 555 0137"
    found = prefill(text)
    assert found.phone == "+442071838750"
    assert (found.first_name, found.last_name) == (None, None)


# external IDs


@pytest.mark.parametrize(
    ("text", "external"),
    [
        ("ext:crm-004512 +1 415 555 0137", "crm-004512"),
        ("CRM ID: crm-004512", "crm-004512"),
        ("External ID: 88231.", "88231"),
        ("customer id #A-77", "A-77"),
        ("+1 415 555 0137 ext: 12", None),
        ("CRM: Salesforce", None),
        ("External ID: 6650f1c2a9e4b27d3c8e41a7", None),
        ("External ID: +14155550137", None),
        ("Slack ID: U0123456789", None),
        ("id: crm-1", None),
    ],
)
def test_an_external_id_only_when_labelled_as_one(text: str, external: str | None) -> None:
    assert prefill(text).external_id == external


# properties


@PROPERTIES
@given(st.one_of(any_text.map(lambda text: {"text": text}), json_values(any_text)))
@example({"text": "Name: " * 5000})
@example({"text": "+1 415 555 0137 " * 3000})
@example({"blocks": "x"})
@example([])
def test_any_message_gives_a_well_formed_prefill(message: Any) -> None:
    found = prefill_from_message(message)
    phones = [found.phone, *found.other_phones] if found.phone else list(found.other_phones)
    assert all(E164.fullmatch(phone) for phone in phones)
    assert len(set(phones)) == len(phones) <= 10
    for part in (found.first_name, found.last_name):
        assert part is None or (part.strip() == part and 0 < len(part) <= 61)
        assert part is None or not any(ch in part for ch in "<>&@=\n")
    if found.last_name:
        assert found.first_name
    assert found.external_id is None or 0 < len(found.external_id) <= 64


@PROPERTIES
@given(text_with_phones())
def test_the_numbers_are_the_ones_the_finder_reads(case: tuple[str, list[str]]) -> None:
    text, _ = case
    found = prefill(text)
    phones = [found.phone, *found.other_phones] if found.phone else []
    assert phones == [key.value for key in find_leads(text).keys if key.kind == "phone"][:10]
