"""PyMC-Marketing's channel contribution in float64, written out from its transformers
(pymc_marketing/mmm/transformers.py: geometric_adstock, delayed_adstock with mode After,
logistic_saturation, hill_function) for the two fixtures' components, as the draw tests'
reference: at the posterior means it gives the fixtures' expected.json (PyMC-Marketing's own
forward pass), at one posterior sample what PyMC-Marketing computes for that sample."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np


def load(path: Path) -> dict:
    """The model's spend, scales and spec, its posterior (chain x draw x ...) and its
    parameters at the posterior means (``at_sample`` for one sample)."""
    import xarray as xr

    with xr.open_dataset(path, engine="h5netcdf") as root:
        attrs = dict(root.attrs)
    with xr.open_dataset(path, engine="h5netcdf", group="constant_data") as data:
        constant = {k: data[k].to_numpy() for k in data.data_vars}
    with xr.open_dataset(path, engine="h5netcdf", group="posterior") as post:
        posterior = {k: post[k].transpose("chain", "draw", ...).to_numpy() for k in post.data_vars}
    return {
        **constant,
        "posterior": posterior,
        "params": {k: v.mean((0, 1)) for k, v in posterior.items()},
        "adstock": json.loads(attrs["adstock"]),
        "saturation": json.loads(attrs["saturation"]),
        "adstock_first": json.loads(attrs["adstock_first"]),
    }


def at_sample(model: dict, sample: tuple[int, int], *, keep: tuple[str, ...] = ()) -> dict:
    """The model with its parameters at one posterior sample (chain, draw), but for the
    variables in ``keep``, which stay at their posterior means."""
    chain, draw = sample
    drawn = {k: v[chain, draw] for k, v in model["posterior"].items() if k not in keep}
    return {**model, "params": {**model["params"], **drawn}}


def _adstock(model: dict, x: np.ndarray) -> np.ndarray:
    """Adstock (mode After) of x (weeks x channels), each channel its own weights."""
    spec = model["adstock"]
    p = model["params"]
    lags = np.arange(spec["l_max"], dtype=float)
    out = np.zeros_like(x)
    for m in range(x.shape[1]):
        alpha = p[f"{spec['prefix']}_alpha"][m]
        if spec["lookup_name"] == "geometric":
            w = alpha**lags
        elif spec["lookup_name"] == "delayed":
            w = alpha ** ((lags - p[f"{spec['prefix']}_theta"][m]) ** 2)
        else:
            raise AssertionError(spec["lookup_name"])
        if spec["normalize"]:
            w = w / w.sum()
        for t in range(x.shape[0]):
            out[t, m] = sum(w[lag] * x[t - lag, m] for lag in range(len(w)) if t - lag >= 0)
    return out


def _saturation(model: dict, x: np.ndarray) -> np.ndarray:
    spec = model["saturation"]
    p = {k.removeprefix(f"{spec['prefix']}_"): v for k, v in model["params"].items()}
    if spec["lookup_name"] == "logistic":
        e = np.exp(-p["lam"] * x)
        return p["beta"] * (1 - e) / (1 + e)
    if spec["lookup_name"] == "hill":
        return p["beta"] * (
            1 - p["kappa"] ** p["slope"] / (p["kappa"] ** p["slope"] + x ** p["slope"])
        )
    raise AssertionError(spec["lookup_name"])


def contribution(model: dict, plan_spend: np.ndarray) -> np.ndarray:
    """Weekly contribution in CNY (plan week x channel) of the plan spend after the fitted
    weeks."""
    full = np.vstack([model["channel_data"], plan_spend]) / model["channel_scale"]
    if model["adstock_first"]:
        out = _saturation(model, _adstock(model, full))
    else:
        out = _adstock(model, _saturation(model, full))
    return (out * float(model["target_scale"]))[-len(plan_spend) :]
