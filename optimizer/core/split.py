"""A per-channel split {channel: CNY for the year} spread over the channel's units (KOL tiers)
and periods: in the optimum's proportions within the channel, or evenly."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np

from optimizer.core.units import Unit
from optimizer.errors import FieldProblem, ScenarioError

Spread = Literal["optimal", "even"]
SPREADS: tuple[Spread, ...] = ("optimal", "even")
# a channel the optimum gives less than this share of its spend gets nothing from it: solvers
# leave such dust (1e-13 CNY) on channels they do not use
NOTHING = 1e-9


@dataclass(frozen=True)
class SpreadSplit:
    """The spend (units x periods) a split stands for, and the channels spread evenly
    although the optimum's proportions were asked for (the optimum spends nothing there)."""

    spend: np.ndarray
    evenly: list[str]


def check_split(channels: list[str], split: Mapping[str, float], source: str) -> None:
    """ScenarioError naming each unknown channel (with the known ones) and each amount that
    is not a finite number >= 0."""
    problems = []
    for channel, amount in split.items():
        if channel not in channels:
            known = ", ".join(channels)
            problems.append(FieldProblem(channel, f"unknown channel; known: {known}"))
        elif not isinstance(amount, int | float) or not math.isfinite(amount) or amount < 0:
            problems.append(FieldProblem(channel, f"expected a number >= 0 (CNY), got {amount}"))
    if problems:
        raise ScenarioError(source, problems, subject="split")


def spread_split(
    units: list[Unit],
    periods: int,
    split: Mapping[str, float],
    spread: Spread,
    optimum: np.ndarray | None,
) -> SpreadSplit:
    """Each channel's amount over its units and periods: in the shares ``optimum`` (units x
    periods) spends within that channel, or evenly (``spread="even"``, no optimum, or an
    optimum that spends nothing on the channel). Channels not in the split get nothing."""
    spend = np.zeros((len(units), periods))
    evenly = []
    of_channel = np.array([u.channel for u in units])
    dust = NOTHING * max(float(np.sum(optimum)), 1.0) if optimum is not None else 0.0
    for channel, amount in split.items():
        rows = of_channel == channel
        best = np.clip(optimum[rows], 0.0, None) if optimum is not None else None
        if spread == "optimal" and best is not None and best.sum() > dust:
            spend[rows] = amount * best / best.sum()
            continue
        if spread == "optimal" and amount > 0:
            evenly.append(channel)
        spend[rows] = amount / (rows.sum() * periods)
    return SpreadSplit(spend, evenly)
