"""Opening an InferenceData NetCDF file (PyMC-Marketing's ``save()``, a Meridian export) with
xarray and h5netcdf, the libraries those packages write it with; never with pickle.

xarray is an optional extra (``pip install budgetopt[mmm]``), imported only here and only when
such a file is imported.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from optimizer.errors import ScenarioError
from optimizer.inputs.mmm.build import fail
from optimizer.inputs.text import MAX_FILE_BYTES

MAX_MODEL_BYTES = 20 * MAX_FILE_BYTES  # 100 MiB: posterior draws are larger than a scenario
GROUPS = ("posterior", "constant_data", "fit_data")


class InferenceFile:
    """The groups of an InferenceData file (xarray Datasets) and its attributes."""

    def __init__(self, source: str, groups: dict[str, Any], attrs: dict[str, Any]) -> None:
        self.source = source
        self.groups = groups
        self.attrs = attrs

    def group(self, name: str) -> Any:
        """A group, or a ScenarioError naming it when the file has none."""
        if name not in self.groups:
            have = ", ".join(sorted(self.groups)) or "none"
            raise fail(self.source, name, f"missing group '{name}' (the file has: {have})")
        return self.groups[name]

    def variable(self, group: str, name: str) -> Any:
        """A variable of a group, or a ScenarioError naming group and variable."""
        data = self.group(group)
        if name not in data:
            have = ", ".join(sorted(map(str, data.data_vars))) or "none"
            raise fail(self.source, f"{group}.{name}", f"missing (the group has: {have})")
        return data[name]

    def sample_count(self) -> int:
        """Samples of the posterior: chains x draws."""
        sizes = self.group("posterior").sizes
        return int(sizes.get("chain", 1) * sizes.get("draw", 1))

    def samples(self, name: str, picks: Any) -> Any:
        """A posterior variable at the picked samples (flat indices, chain by chain: ``chain *
        draws + draw``): a DataArray whose first dim is ``sample``, its other dims kept."""
        var = self.variable("posterior", name)
        if "chain" not in var.dims or "draw" not in var.dims:
            raise fail(
                self.source, f"posterior.{name}", f"expected dims chain, draw, ...; got {var.dims}"
            )
        stacked = var.stack(sample=("chain", "draw")).transpose("sample", ...)
        return stacked.isel(sample=picks).drop_vars(["sample", "chain", "draw"], errors="ignore")

    def attr(self, name: str, *, parse_json: bool = False, default: Any = ...) -> Any:
        """A file attribute (JSON-decoded when asked), or a ScenarioError naming it."""
        if name not in self.attrs:
            if default is not ...:
                return default
            raise fail(self.source, f"attrs.{name}", "missing attribute")
        value = self.attrs[name]
        if not parse_json:
            return value
        try:
            return json.loads(value)
        except (TypeError, ValueError) as exc:
            message = f"expected JSON text, got {value!r}: {exc}"
            raise fail(self.source, f"attrs.{name}", message) from None


def open_inference_file(path: Path) -> InferenceFile:
    """Read every group of an InferenceData NetCDF file into memory, with errors a user can
    act on: missing, too large, not NetCDF/HDF5, or the reading libraries not installed."""
    source = str(path)
    _check_file(path)
    try:
        import h5netcdf  # noqa: F401  (the engine xarray reads these files with)
        import xarray as xr
    except ImportError:
        raise fail(
            source,
            "file",
            "reading this model needs xarray and h5netcdf: pip install 'budgetopt[mmm]'",
        ) from None
    try:
        root = xr.open_dataset(path, engine="h5netcdf")
        attrs = dict(root.attrs)
        root.close()
        groups = {}
        for name in GROUPS:
            try:
                with xr.open_dataset(path, engine="h5netcdf", group=name) as data:
                    groups[name] = data.load()
            except OSError:
                continue  # h5netcdf: no such group
    except ScenarioError:
        raise
    except Exception as exc:  # h5py/xarray raise many kinds for a file that is not NetCDF
        raise fail(source, "file", f"not a NetCDF (HDF5) InferenceData file: {exc}") from None
    return InferenceFile(source, groups, attrs)


def _check_file(path: Path) -> None:
    """The file exists, is a file, and is not absurdly large."""
    if not path.is_file():
        raise fail(str(path), "file", "no such file" if not path.exists() else "not a file")
    size = path.stat().st_size
    if size > MAX_MODEL_BYTES:
        raise fail(
            str(path),
            "file",
            f"too large: expected at most {MAX_MODEL_BYTES:,} bytes, got {size:,}",
        )
