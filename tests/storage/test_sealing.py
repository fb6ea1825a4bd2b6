"""Secrets sealed at rest: they open again, only under a key in use, and keys rotate."""

from __future__ import annotations

import base64

import pytest
from cryptography.fernet import Fernet
from hypothesis import given
from hypothesis import strategies as st

from bot.storage.sealing import SealBroken, Sealer, generate_key

# Fixed keys, so that test IDs are the same in every test process.
OLD = base64.urlsafe_b64encode(b"old key, thirty-two bytes long!!").decode()
NEW = base64.urlsafe_b64encode(b"new key, thirty-two bytes long!!").decode()
OTHER = base64.urlsafe_b64encode(b"some other key, 32 bytes long!!!").decode()

# Every sealed secret starts with the same version byte and a timestamp whose high bytes are
# zero ("gAAAAA..."), so a short enough plaintext may show up in it by chance; eight characters
# cannot.
NON_TRIVIAL = 8


@given(st.text())
def test_any_text_opens_again(plain: str) -> None:
    sealer = Sealer.from_setting(NEW)

    assert sealer.unseal(sealer.seal(plain)) == plain


@given(st.text(min_size=NON_TRIVIAL))
def test_the_sealed_form_never_shows_the_secret(plain: str) -> None:
    sealed = Sealer.from_setting(NEW).seal(plain)

    assert plain not in sealed


@given(st.text())
def test_a_key_not_in_use_opens_nothing(plain: str) -> None:
    sealed = Sealer.from_setting(OLD).seal(plain)

    with pytest.raises(SealBroken):
        Sealer.from_setting(NEW).unseal(sealed)


@given(st.text(), st.data())
def test_any_change_to_the_sealed_form_is_noticed(plain: str, data: st.DataObject) -> None:
    sealer = Sealer.from_setting(NEW)
    raw = bytearray(base64.urlsafe_b64decode(sealer.seal(plain)))
    at = data.draw(st.integers(0, len(raw) - 1))
    raw[at] ^= data.draw(st.integers(1, 255))

    with pytest.raises(SealBroken):
        sealer.unseal(base64.urlsafe_b64encode(bytes(raw)).decode())


@given(st.text())
def test_anything_that_is_not_a_sealed_secret_is_broken(garbage: str) -> None:
    with pytest.raises(SealBroken):
        Sealer.from_setting(NEW).unseal(garbage)


def test_the_same_secret_seals_differently_each_time() -> None:
    sealer = Sealer.from_setting(NEW)

    assert sealer.seal("Xy7sEcReT-9q") != sealer.seal("Xy7sEcReT-9q")


def test_the_first_key_seals_and_every_key_opens() -> None:
    sealed_old = Sealer.from_setting(OLD).seal("old secret")
    both = Sealer.from_setting(f"{NEW},{OLD}")

    sealed_both = both.seal("new secret")

    assert both.unseal(sealed_old) == "old secret"
    assert Sealer.from_setting(NEW).unseal(sealed_both) == "new secret"
    with pytest.raises(SealBroken):
        Sealer.from_setting(OLD).unseal(sealed_both)


def test_rotation_reseals_under_the_new_key() -> None:
    sealed = Sealer.from_setting(OLD).seal("Xy7sEcReT-9q")

    resealed = Sealer.from_setting(f"{NEW},{OLD}").reseal(sealed)

    assert Sealer.from_setting(NEW).unseal(resealed) == "Xy7sEcReT-9q"
    with pytest.raises(SealBroken):
        Sealer.from_setting(OLD).unseal(resealed)


def test_resealing_what_no_key_opens_is_broken() -> None:
    sealed = Sealer.from_setting(OTHER).seal("Xy7sEcReT-9q")

    with pytest.raises(SealBroken):
        Sealer.from_setting(f"{NEW},{OLD}").reseal(sealed)


def test_whitespace_around_keys_is_ignored() -> None:
    sealed = Sealer.from_setting(OLD).seal("s")

    assert Sealer.from_setting(f"  {NEW} ,\n {OLD}\t").unseal(sealed) == "s"


def test_a_generated_key_is_a_fernet_key() -> None:
    key = generate_key()

    Fernet(key)
    assert key != generate_key()


@pytest.mark.parametrize(
    "setting",
    [
        "not-a-key-at-all",
        NEW[:-4],
        f"{NEW},{OLD[:-1]}x!",
        base64.urlsafe_b64encode(b"sixteen byte key").decode(),
        "clé-secrète-non-ascii",
    ],
)
def test_a_malformed_key_is_refused_without_showing_it(setting: str) -> None:
    with pytest.raises(ValueError, match="not a Fernet key") as refused:
        Sealer.from_setting(setting)

    message = str(refused.value)
    for key in setting.split(","):
        assert key.strip() not in message
    # Nothing chained to it carries the key either.
    assert refused.value.__cause__ is None
    assert refused.value.__suppress_context__


@pytest.mark.parametrize("setting", ["", "   ", ",", " , "])
def test_a_setting_without_keys_is_refused(setting: str) -> None:
    with pytest.raises(ValueError, match="no key"):
        Sealer.from_setting(setting)


def test_which_key_is_malformed_is_said_by_its_place() -> None:
    with pytest.raises(ValueError, match="key number 2"):
        Sealer.from_setting(f"{NEW},nope")


def test_a_sealer_never_shows_its_keys() -> None:
    sealer = Sealer.from_setting(f"{NEW},{OLD}")

    assert NEW not in repr(sealer)
    assert OLD not in repr(sealer)
    assert repr(sealer) == "Sealer(2 keys)"
