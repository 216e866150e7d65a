"""Response curves imported from media-mix models into a budgetopt scenario.

``import_model(source, path, options, draws=...)`` reads a Robyn JSON (``robyn``), a PyMC-Marketing
``MMM.save()`` file (``pymc-marketing``), a Meridian NetCDF export (``meridian``) or the plain
CSV / YAML of curve parameters (``params``), maps every paid channel to a budgetopt curve
channel in CNY (adstock and history included) and returns a validated scenario document;
with ``draws``, each curve of a PyMC-Marketing or Meridian model carries that many posterior
samples of its parameters (``draws.py``).
Each source's formulas are in its module; xarray (the ``mmm`` extra) is imported only to read
the NetCDF files of PyMC-Marketing and Meridian.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from optimizer.errors import FieldProblem, ScenarioError
from optimizer.inputs.files import validate_scenario
from optimizer.inputs.mmm.build import DEFAULT_AOV_CNY, DEFAULT_WEEKS, ImportOptions
from optimizer.inputs.mmm.draws import DEFAULT_DRAWS, ModelImport

__all__ = [
    "DEFAULT_AOV_CNY",
    "DEFAULT_DRAWS",
    "DEFAULT_WEEKS",
    "SOURCES",
    "ImportOptions",
    "ModelImport",
    "import_model",
    "read_model",
]

SOURCES = ("robyn", "pymc-marketing", "meridian", "params")

Reader = Callable[[Path, ImportOptions, int], ModelImport]


def import_model(
    source: str,
    path: str | Path,
    options: ImportOptions | None = None,
    *,
    draws: int = DEFAULT_DRAWS,
) -> dict[str, Any]:
    """A scenario document (validated) with the curves of a media-mix model file.

    ``source`` is one of ``SOURCES``; ``draws`` is how many posterior samples each curve
    carries (0: none; ``read_model`` says which were taken). A broken file, a missing field or
    a model that has no exact budgetopt curve raises ScenarioError naming the field or path in
    the file.
    """
    return read_model(source, path, options, draws=draws).document


def read_model(
    source: str,
    path: str | Path,
    options: ImportOptions | None = None,
    *,
    draws: int = DEFAULT_DRAWS,
) -> ModelImport:
    """``import_model``'s document, with notes for the user (draws asked for but not there)."""
    path = Path(path)
    imported = _reader(source)(path, options or ImportOptions(), draws)
    validate_scenario(imported.document, f"{path} (imported from {source})")
    return imported


def _reader(source: str) -> Reader:
    """The importer of a source, imported only when used."""
    if source == "robyn":
        from optimizer.inputs.mmm.robyn import import_robyn

        return import_robyn
    if source == "pymc-marketing":
        from optimizer.inputs.mmm.pymc_marketing import import_pymc_marketing

        return import_pymc_marketing
    if source == "meridian":
        from optimizer.inputs.mmm.meridian import import_meridian

        return import_meridian
    if source == "params":
        from optimizer.inputs.mmm.params import import_params

        return import_params
    message = f"expected one of {', '.join(SOURCES)}, got {source!r}"
    raise ScenarioError("import", [FieldProblem("source", message)], subject="import")
