"""Copies of an InferenceData NetCDF fixture with a change, for the error tests (xarray)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

GROUPS = ("posterior", "constant_data", "fit_data")


def altered(
    source: Path,
    target: Path,
    *,
    attrs: Callable[[dict[str, Any]], None] | None = None,
    groups: Callable[[dict[str, Any]], None] | None = None,
) -> Path:
    """Write ``source`` to ``target`` after changing its root attributes and/or its groups."""
    import xarray as xr

    with xr.open_dataset(source, engine="h5netcdf") as root:
        root_attrs = dict(root.attrs)
    data = {}
    for name in GROUPS:
        try:
            with xr.open_dataset(source, engine="h5netcdf", group=name) as group:
                data[name] = group.load()
        except OSError:
            continue
    if attrs:
        attrs(root_attrs)
    if groups:
        groups(data)
    xr.Dataset(attrs=root_attrs).to_netcdf(target, engine="h5netcdf", mode="w")
    for name, group in data.items():
        group.to_netcdf(target, engine="h5netcdf", mode="a", group=name)
    return target


def set_json(key: str, change: Callable[[Any], Any]) -> Callable[[dict[str, Any]], None]:
    """An attrs change that decodes a JSON attribute, changes it and encodes it back."""

    def apply(attrs: dict[str, Any]) -> None:
        attrs[key] = json.dumps(change(json.loads(attrs[key])))

    return apply
