"""Where each emotion sits on the valence/arousal plane, and the room moods read from it.

Valence (unpleasant -1 .. +1 pleasant) and arousal (calm -1 .. +1 activated) per class: the
placement of Russell's circumplex model of affect (J. A. Russell, "A circumplex model of affect",
Journal of Personality and Social Psychology 39(6), 1980), with magnitudes after the
pleasure-arousal-dominance ratings of emotion terms (J. A. Russell and A. Mehrabian, "Evidence for
a three-factor theory of emotions", Journal of Research in Personality 11(3), 1977). Neutral is
the origin by definition. The numbers are a convention, not a measurement on edgeemo's model;
[apps.mood.affect] overrides any of them (docs/smart-home.md).

A face's position is the probability-weighted mean of these points, never its argmax, so a fear
face the model reads as 60 % sad and 30 % fear still lands on the negative side.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from edgeemo.errors import ConfigError

__all__ = ["DEFAULT_AFFECT", "EVENT_TYPES", "MOOD_STATES", "affect_vectors", "normalised_certainty"]

# label -> (valence, arousal)
DEFAULT_AFFECT: dict[str, tuple[float, float]] = {
    "happy": (0.80, 0.50),
    "surprise": (0.20, 0.85),
    "neutral": (0.00, 0.00),
    "sad": (-0.65, -0.27),
    "angry": (-0.51, 0.59),
    "fear": (-0.64, 0.60),
    "disgust": (-0.60, 0.35),
}

# Every state the analyzer can report; "none": nobody counted for empty_after_s, or quiet hours.
MOOD_STATES: tuple[str, ...] = ("positive", "neutral", "tense", "low", "none")

# The events the mood app publishes on <prefix>/<device>/event.
EVENT_TYPES: tuple[str, ...] = ("mood_changed", "room_occupied", "room_empty")


def affect_vectors(
    labels: Sequence[str], overrides: Mapping[str, tuple[float, float]] | None = None
) -> tuple[list[float], list[float]]:
    """Valence and arousal per label, in the bundle's label order: the default table with the
    config's overrides on top. Every label needs a point; an unknown one is a config error."""
    table = {**DEFAULT_AFFECT, **(overrides or {})}
    missing = [lab for lab in labels if lab not in table]
    if missing:
        raise ConfigError(
            f"apps.mood.affect: expected a [valence, arousal] pair for every label of the bundle, "
            f"received none for {missing} (add e.g. `{missing[0]} = [0.0, 0.0]` under [apps.mood.affect])"
        )
    return [float(table[lab][0]) for lab in labels], [float(table[lab][1]) for lab in labels]


def normalised_certainty(probs: Sequence[float]) -> float:
    """1 - H(p) / ln(K): 1 for a one-hot reading, 0 for a uniform one."""
    k = len(probs)
    if k < 2:
        return 1.0
    total = sum(probs)
    if total <= 0:
        return 0.0
    h = 0.0
    for p in probs:
        if p > 0:
            q = p / total
            h -= q * math.log(q)
    return max(0.0, 1.0 - h / math.log(k))
