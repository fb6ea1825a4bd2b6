"""The base of the webhook URL shown: the Host Slack reached, never a forwarded header."""

from __future__ import annotations

import pytest
from slack_bolt.request.async_request import AsyncBoltRequest

from bot.listeners.request import public_url_of

BODY = "command=%2Flead&text=subscribe+x"


def _request(headers: dict[str, str], mode: str = "http") -> AsyncBoltRequest:
    body: str | dict[str, str] = BODY if mode == "http" else {"command": "/lead"}
    return AsyncBoltRequest(body=body, headers=headers, mode=mode)


@pytest.mark.parametrize(
    "host",
    ["leads.example.com", "leads.example.com:8443", "127.0.0.1:3000", "[::1]:3000"],
)
def test_the_host_header_is_the_base_and_always_https(host: str) -> None:
    assert public_url_of(_request({"Host": host})) == f"https://{host}"


def test_forwarded_host_and_scheme_are_ignored() -> None:
    forged = {
        "Host": "leads.example.com",
        "X-Forwarded-Host": "attacker.example",
        "X-Forwarded-Proto": "http",
    }
    assert public_url_of(_request(forged)) == "https://leads.example.com"
    assert public_url_of(_request({"X-Forwarded-Host": "attacker.example"})) is None


@pytest.mark.parametrize(
    "host", ["evil.example/x?", "a b", "evil.example#", "user@evil.example", "", "h:99999999"]
)
def test_a_host_that_is_not_a_host_gives_no_base(host: str) -> None:
    assert public_url_of(_request({"Host": host})) is None


def test_socket_mode_has_no_base() -> None:
    assert public_url_of(_request({"Host": "leads.example.com"}, mode="socket_mode")) is None
