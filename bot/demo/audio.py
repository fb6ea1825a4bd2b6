"""Stand-in call recordings: a few soft tones, like turns of speech, as a small WAV."""

from __future__ import annotations

import hashlib
import io
import math
import random
import sys
import wave
from array import array

SAMPLE_RATE = 8000
SHORTEST, LONGEST = 2.0, 4.0
# Quiet enough not to startle anyone who presses play.
LOUDNESS = 0.18 * 32767
# The agent's and the lead's "voices": different pitches, so the turns can be heard.
VOICES = ((196.0, 247.0), (147.0, 175.0))
FADE = 0.03  # seconds; fading in and out avoids clicks


def recording(call_id: str, seconds: float) -> bytes:
    """A 2-4 s mono 16-bit 8 kHz WAV, the same for the same call, longer for a longer call."""
    rng = random.Random(hashlib.sha256(call_id.encode()).digest())
    length = min(LONGEST, max(SHORTEST, seconds / 5))
    samples = array("h", bytes(2 * round(length * SAMPLE_RATE)))
    at, voice = rng.uniform(0.05, 0.2), 0
    while at < length - 0.3:
        turn = min(rng.uniform(0.4, 1.0), length - at - 0.1)
        _tone(samples, at, turn, VOICES[voice], rng)
        at += turn + rng.uniform(0.12, 0.35)
        voice = 1 - voice
    return _wav(samples)


def _tone(
    samples: array[int],
    start: float,
    seconds: float,
    voice: tuple[float, float],
    rng: random.Random,
) -> None:
    """Adds one turn: a tone gliding between the voice's pitches, with a syllable-like pulse."""
    first = round(start * SAMPLE_RATE)
    count = min(len(samples) - first, round(seconds * SAMPLE_RATE))
    low, high = voice
    pitch = rng.uniform(low, high)
    glide = rng.uniform(-0.25, 0.25) * (high - low)
    syllables = rng.uniform(3.0, 5.0)
    fade = FADE * SAMPLE_RATE
    phase = 0.0
    for n in range(count):
        progress = n / count
        phase += 2 * math.pi * (pitch + glide * progress) / SAMPLE_RATE
        envelope = min(1.0, n / fade, (count - n) / fade)
        pulse = 0.6 + 0.4 * math.sin(2 * math.pi * syllables * n / SAMPLE_RATE)
        samples[first + n] = round(LOUDNESS * envelope * pulse * math.sin(phase))


def _wav(samples: array[int]) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        if sys.byteorder == "big":
            # WAV samples are little-endian.
            samples = array("h", samples)
            samples.byteswap()
        out.writeframes(samples.tobytes())
    return buffer.getvalue()
