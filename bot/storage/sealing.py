"""Secrets at rest, sealed with Fernet: authenticated, so a wrong key or tampering is noticed."""

# ENCRYPTION_KEY holds one or more keys, newest first: the first seals, every one opens. To
# rotate, put a new key in front, reseal what is stored, then drop the old key.

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


class SealBroken(Exception):
    """No key in use opens a sealed secret: it was sealed under another key, or tampered with."""


class Sealer:
    """Seals secrets under the first of its keys; opens what any of them sealed."""

    def __init__(self, setting: str) -> None:
        keys = _keys(setting)
        self._fernet = MultiFernet(keys)
        self._count = len(keys)

    @classmethod
    def from_setting(cls, value: str) -> Sealer:
        """The sealer for ENCRYPTION_KEY's value: Fernet keys separated by commas, newest first."""
        return cls(value)

    def __repr__(self) -> str:
        # Never the keys, wherever a sealer ends up printed.
        return f"Sealer({self._count} keys)"

    def seal(self, plain: str) -> str:
        """`plain`, encrypted and signed under the first key."""
        return self._fernet.encrypt(plain.encode()).decode("ascii")

    def unseal(self, sealed: str) -> str:
        """The secret `seal` was given; SealBroken if no key opens it."""
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except InvalidToken:
            raise SealBroken("no key in ENCRYPTION_KEY opens this secret") from None

    def reseal(self, sealed: str) -> str:
        """The same secret, sealed under the first key; SealBroken if no key opens it."""
        try:
            return self._fernet.rotate(sealed.encode()).decode("ascii")
        except InvalidToken:
            raise SealBroken("no key in ENCRYPTION_KEY opens this secret") from None


def generate_key() -> str:
    """A new random key for ENCRYPTION_KEY."""
    return Fernet.generate_key().decode("ascii")


def _keys(setting: str) -> list[Fernet]:
    keys = [key.strip() for key in setting.split(",")]
    if not any(keys):
        raise ValueError("ENCRYPTION_KEY holds no key")
    fernets = []
    for number, key in enumerate((key for key in keys if key), start=1):
        try:
            fernets.append(Fernet(key))
        except ValueError:
            # Fernet's own message is safe today; ours is, whatever a later version says.
            raise ValueError(
                f"ENCRYPTION_KEY's key number {number} is not a Fernet key "
                "(32 bytes in url-safe base64, 44 characters)"
            ) from None
    return fernets
