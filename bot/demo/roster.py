"""Made-up people for the sandbox campaign: names, fictional phone numbers, CRM IDs, plans."""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass

FIRST_NAMES = (
    "Maria", "Devon", "Priya", "Jamal", "Sofia", "Wei", "Aisha", "Liam", "Chloé", "Mateo",
    "Hana", "Kwame", "Olivia", "Ravi", "Ingrid", "Diego", "Fatima", "Noah", "Yuki", "Grace",
    "Tomás", "Amara", "Ethan", "Leila", "Marcus", "Siobhan", "Arjun", "Elena", "Kofi", "Zoe",
    "Hiroshi", "Nadia", "Samuel", "Mei", "Oscar", "Ananya", "Lucas", "Imani", "Finn", "Rosa",
)  # fmt: skip
LAST_NAMES = (
    "Gonzalez", "Clarke", "Raman", "Okafor", "Rossi", "Zhang", "Haddad", "Murphy", "Dubois",
    "Silva", "Kim", "Mensah", "Bennett", "Iyer", "Larsen", "Herrera", "Rahman", "Fischer",
    "Tanaka", "O'Brien", "Novak", "Adeyemi", "Walsh", "Nguyen", "Patel", "Kowalski", "Reyes",
    "Johansson", "Mwangi", "Cohen", "Sato", "Ali", "Brooks", "Chen", "Lindqvist", "Moreau",
)  # fmt: skip
# US area codes with the UTC offset (standard time) NLPearl reports as the lead's time zone.
US_AREAS = (
    ("212", "-5.0"), ("617", "-5.0"), ("404", "-5.0"), ("305", "-5.0"), ("312", "-6.0"),
    ("512", "-6.0"), ("615", "-6.0"), ("303", "-7.0"), ("602", "-7.0"), ("415", "-8.0"),
    ("206", "-8.0"), ("702", "-8.0"),
)  # fmt: skip
UK_SHARE = 0.12
PLANS = ("Starter", "Pro", "Pro", "Premium")
# CRM IDs count up from here, like the sample's crm-004512.
FIRST_EXTERNAL_ID = 4540


@dataclass(frozen=True)
class Person:
    """One lead as imported: who, where, and the pre-call variables sent as `callData`."""

    first_name: str
    last_name: str
    phone: str
    time_zone: str
    external_id: str
    plan: str

    @property
    def name(self) -> str:
        """First and last name."""
        return f"{self.first_name} {self.last_name}"

    @property
    def email(self) -> str:
        """A mailbox at example.com, which never delivers."""
        local = f"{self.first_name}.{self.last_name}".lower().replace("'", "")
        plain = unicodedata.normalize("NFKD", local).encode("ascii", "ignore").decode()
        return f"{plain}@example.com"

    def call_data(self) -> dict[str, str]:
        """The pre-call variables, keyed by NLPearl's built-in variable IDs (and `plan`)."""
        return {
            "firstName": self.first_name,
            "lastName": self.last_name,
            "emailAddress": self.email,
            "plan": self.plan,
        }


class Roster:
    """Draws people with phone numbers no one else in the campaign has."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._phones: set[str] = set()
        self._count = 0

    def person(self) -> Person:
        """The next person, with the next CRM ID."""
        rng = self._rng
        phone, time_zone = self._phone()
        external_id = f"crm-{FIRST_EXTERNAL_ID + self._count:06d}"
        self._count += 1
        return Person(
            rng.choice(FIRST_NAMES),
            rng.choice(LAST_NAMES),
            phone,
            time_zone,
            external_id,
            rng.choice(PLANS),
        )

    def _phone(self) -> tuple[str, str]:
        """A fictional number: US 555-01NN (reserved for fiction) or UK 020 7946 0NNN (Ofcom's)."""
        while True:
            if self._rng.random() < UK_SHARE:
                phone, time_zone = f"+442079460{self._rng.randrange(1000):03d}", "0.0"
            else:
                area, time_zone = self._rng.choice(US_AREAS)
                phone = f"+1{area}55501{self._rng.randrange(100):02d}"
            if phone not in self._phones:
                self._phones.add(phone)
                return phone, time_zone
