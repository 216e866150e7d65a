"""Draws of imported curves: which posterior samples an import takes, and a channel's ``draws``
block from the curves of those samples.

An import takes up to ``count`` samples spread evenly over the posterior, flattened chain by
chain (sample ``chain * draws_per_chain + draw``): the same samples for every channel, so draw
k of every channel is one joint sample of the model. Each sample's parameters go through the
conversion the point curve uses; the block keeps the response's numbers and, when every sample
keeps the point's adstock type, its geometric decay or Weibull shape and scale. An adstock the
import writes lag by lag (``weights``) cannot be drawn: it keeps its point value.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from optimizer.inputs.mmm.build import ImportedChannel
from optimizer.schema.draws import ADSTOCK_BOUNDS, RESPONSE_BOUNDS

DEFAULT_DRAWS = 200

Curve = tuple[dict[str, Any], dict[str, Any] | None]  # a response and its adstock (or None)


@dataclass(frozen=True)
class ModelImport:
    """A scenario document read from a model file, how many draws its curves carry, and notes
    for the user (stderr)."""

    document: dict[str, Any]
    notes: tuple[str, ...] = ()
    draws: int = 0


@dataclass(frozen=True)
class Sampling:
    """The posterior samples an import draws: flat indices (chain-major) into ``available``."""

    asked: int
    available: int
    picks: np.ndarray = field(compare=False)

    @classmethod
    def evenly(cls, asked: int, available: int) -> Sampling:
        """``min(asked, available)`` samples, each the middle one of an equal stretch of the
        posterior, in order: the same samples for the same file, every time."""
        count = min(max(asked, 0), max(available, 0))
        k = np.arange(count, dtype=np.int64)
        picks = (2 * k + 1) * available // (2 * count) if count else k
        return cls(asked, available, picks)

    @property
    def count(self) -> int:
        """How many draws the import writes."""
        return len(self.picks)

    def description(self) -> str:
        """What the draws are, for the scenario's description ('' without draws)."""
        if not self.count:
            return ""
        which = (
            f"all {self.available} posterior samples"
            if self.count == self.available
            else f"{self.count} of the {self.available} posterior samples (chain x draw), "
            "spread evenly"
        )
        return f"Draws: {which}, each converted as the point curve."

    def notes(self) -> list[str]:
        """A note when the posterior holds fewer samples than asked for."""
        if self.asked <= self.available:
            return []
        return [
            f"asked for {self.asked} draws, the model holds {self.available} samples: all "
            f"{self.available} are used"
        ]


def channel_draws(point: Curve, curves: Sequence[Curve]) -> dict[str, Any] | None:
    """The ``draws`` block of a channel from its point curve and one curve per sample: every
    drawable response number, and the adstock's when each sample keeps the point's type. A
    parameter the same in every sample as at the point (a fixed prior) is left out."""
    response, adstock = point
    block: dict[str, Any] = {}
    drawn = _varying(response, [sample for sample, _ in curves], RESPONSE_BOUNDS)
    if drawn:
        block["response"] = drawn
    drawable = ADSTOCK_BOUNDS.get(adstock["type"], {}) if adstock else {}
    same_type = [a for _, a in curves if a and adstock and a["type"] == adstock["type"]]
    if adstock and drawable and len(same_type) == len(curves):
        drawn = _varying(adstock, same_type, drawable)
        if drawn:
            block["adstock"] = drawn
    return block or None


def _varying(
    point: dict[str, Any], samples: Sequence[dict[str, Any]], drawable: dict[str, Any]
) -> dict[str, list[float]]:
    """Each drawable parameter of the point, one value per sample, unless all equal the point."""
    out = {}
    for name in (n for n in point if n in drawable):
        values = [float(sample[name]) for sample in samples]
        if any(v != point[name] for v in values):
            out[name] = values
    return out


def undrawn_adstock_note(channels: Sequence[ImportedChannel]) -> list[str]:
    """A note naming the channels with draws whose adstock keeps its point value."""
    kept = [c.id for c in channels if c.draws and c.adstock and c.adstock["type"] == "weights"]
    if not kept:
        return []
    return [
        f"the adstock of {', '.join(kept)} is written lag by lag (weights), which draws cannot "
        "vary: only the response parameters are drawn, the adstock keeps its point value"
    ]


def draws_summary(sampling: Sampling, channels: Sequence[ImportedChannel]) -> tuple[str, list[str]]:
    """The description sentence and the notes of an import's draws."""
    kept = undrawn_adstock_note(channels)
    text = sampling.description()
    if text and kept:
        text += f" {kept[0][0].upper()}{kept[0][1:]}."
    return text, sampling.notes() + kept
