"""`lead-bot rotate-key`: every stored NLPearl key re-encrypted under ENCRYPTION_KEY's first key."""

from __future__ import annotations

from pydantic import SecretStr
from sqlalchemy.exc import SQLAlchemyError

from bot.app.settings import ConfigError
from bot.storage.accounts import reseal_all
from bot.storage.engine import create_engine
from bot.storage.sealing import SealBroken, Sealer


async def rotate_stored_keys(database_url: str, encryption_key: SecretStr) -> int:
    """Re-encrypt each workspace's key, all or none; how many there were."""
    sealer = Sealer.from_setting(encryption_key.get_secret_value())
    engine = create_engine(database_url)
    try:
        return await reseal_all(engine, sealer)
    except SealBroken:
        raise ConfigError(
            "a stored NLPearl key opens with none of ENCRYPTION_KEY's keys, so nothing was "
            "changed: add the key it was encrypted with after a comma and run this again."
        ) from None
    except (SQLAlchemyError, OSError) as exc:
        raise ConfigError(
            f"the database in DATABASE_URL could not be used ({type(exc).__name__}), so nothing "
            "was changed: check DATABASE_URL and run `lead-bot migrate` first."
        ) from None
    finally:
        await engine.dispose()
