"""Stand-in call recordings: small, valid, deterministic WAVs that are not silence."""

from __future__ import annotations

import io
import wave
from array import array
from typing import Any

import pytest

from bot.demo.audio import recording


def frames(wav: bytes) -> tuple[Any, array[int]]:
    """The WAV's parameters and its samples."""
    with wave.open(io.BytesIO(wav)) as reader:
        params = reader.getparams()
        samples = array("h", reader.readframes(params.nframes))
    return params, samples


@pytest.mark.parametrize("seconds", [0, 6, 12.5, 20, 600])
def test_a_recording_is_a_short_mono_wav(seconds: float) -> None:
    wav = recording("66a1b2c3d4e5f60718293a4b", seconds)
    params, samples = frames(wav)
    assert (params.nchannels, params.sampwidth, params.framerate) == (1, 2, 8000)
    assert 2.0 <= params.nframes / params.framerate <= 4.0
    assert len(wav) < 80_000
    # Soft tones, not silence.
    assert 1000 < max(abs(s) for s in samples) < 16_000


def test_a_recording_is_the_same_for_the_same_call() -> None:
    assert recording("66aa", 12) == recording("66aa", 12)
    assert recording("66aa", 12) != recording("66ab", 12)


def test_a_longer_call_has_a_longer_recording() -> None:
    short, _ = frames(recording("66aa", 8))
    long, _ = frames(recording("66aa", 19))
    assert short.nframes < long.nframes
