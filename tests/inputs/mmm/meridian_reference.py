"""Meridian's media contribution in float64, ported from its code (google/meridian 2.1:
model/adstock_hill.py _adstock, compute_decay_weights, _hill; model/transformers.py
MediaTransformer, KpiTransformer), as the tests' reference: the fixture's own numbers were
computed by Meridian in float32."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np


def load(path: Path) -> dict:
    """The export's input data, spec and posterior means (``at_sample`` for one posterior
    sample), as numpy."""
    import xarray as xr

    with xr.open_dataset(path, engine="h5netcdf") as root:
        attrs = dict(root.attrs)
    with xr.open_dataset(path, engine="h5netcdf", group="constant_data") as data:
        constant = {k: data[k].to_numpy() for k in data.data_vars}
    with xr.open_dataset(path, engine="h5netcdf", group="posterior") as post:
        posterior = {k: post[k].transpose("chain", "draw", ...).to_numpy() for k in post.data_vars}
        means = {k: v.mean((0, 1)) for k, v in posterior.items()}
        channels = [str(c) for c in post["media_channel"].to_numpy()]
    decays = json.loads(attrs["adstock_decay_spec"])
    return {
        **constant,
        **means,
        "posterior": posterior,
        "max_lag": int(attrs["max_lag"]),
        "decays": [decays[c] for c in channels],
    }


def at_sample(model: dict, sample: tuple[int, int], *, mean_alpha: tuple[int, ...] = ()) -> dict:
    """The model at one posterior sample (chain, draw); the channels in ``mean_alpha`` keep
    their adstock's alpha at the posterior mean."""
    chain, draw = sample
    drawn = {k: v[chain, draw].copy() for k, v in model["posterior"].items()}
    for m in mean_alpha:
        drawn["alpha_m"][m] = model["alpha_m"][m]
    return {**model, **drawn}


def weights(alpha: float, window: int, decay: str) -> np.ndarray:
    """compute_decay_weights over l_range = [window-1, ..., 0], normalised; lag 0 first here."""
    l_range = np.arange(window - 1, -1, -1, dtype=float)
    geometric = decay == "geometric"
    w = alpha**l_range if geometric else (1 - l_range / window) ** (1 / alpha - 1)
    return (w / w.sum())[::-1]


def contribution(model: dict, plan_spend: np.ndarray) -> np.ndarray:
    """Weekly contribution (geo x plan week x channel) in KPI units for the plan spend after
    the fitted weeks, spend buying media at each geo's historical media per spend."""
    media, spend, population = model["media"], model["media_spend"], model["population"]
    per_cny = media.sum(1) / spend.sum(1)
    full = np.concatenate([media, plan_spend * per_cny[:, None, :]], axis=1)
    per_person = media / population[:, None, None]
    median = np.array(
        [
            np.nanmedian(np.where(per_person[..., m] == 0, np.nan, per_person[..., m]))
            for m in range(media.shape[2])
        ]
    )
    scaled = full / (population[:, None] * median[None, :])[:, None, :]
    window = min(model["max_lag"] + 1, media.shape[1])  # n_media_times of the fitted model
    n_geo, n_time, n_channel = scaled.shape
    padded = np.concatenate([np.zeros((n_geo, window - 1, n_channel)), scaled], axis=1)
    out = np.zeros_like(scaled)
    for m in range(n_channel):
        w = weights(float(model["alpha_m"][m]), window, model["decays"][m])
        for t in range(n_time):
            out[:, t, m] = padded[:, t : t + window, m] @ w[::-1]
    ec, slope = model["ec_m"], model["slope_m"]
    hill = out**slope / (out**slope + ec**slope)
    stdev = np.std(model["kpi"] / population[:, None])
    result = hill * model["beta_gm"][:, None, :] * stdev * population[:, None, None]
    return result[:, -plan_spend.shape[1] :, :]
