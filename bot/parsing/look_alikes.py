"""Characters that look like Slack's formatting markers but are never read as markers."""

from __future__ import annotations

# Slack has no escape for its formatting markers, so outside text swaps them for look-alikes
# that no Slack client reads as markers: * _ ~ ` become ∗ ˍ ∼ ˋ (U+2217, U+02CD, U+223C,
# U+02CB). They look the same, can never pair with each other or with the markers we write, and
# a cut can never split a pair. Invisible characters between markers were the alternative, but
# Slack treats zero-width spaces as word breaks, which can start formatting rather than stop it.
MARKERS = str.maketrans({"*": "\u2217", "_": "\u02cd", "~": "\u223c", "`": "\u02cb"})
