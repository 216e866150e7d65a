"""Response curves imported from media-mix models into a budgetopt scenario.

``import_model(source, path, options)`` reads a Robyn JSON (``robyn``), a PyMC-Marketing
``MMM.save()`` file (``pymc-marketing``), a Meridian NetCDF export (``meridian``) or the plain
CSV / YAML of curve parameters (``params``), maps every paid channel to a budgetopt curve
channel in CNY (adstock and history included) and returns a validated scenario document.
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

__all__ = ["DEFAULT_AOV_CNY", "DEFAULT_WEEKS", "SOURCES", "ImportOptions", "import_model"]

SOURCES = ("robyn", "pymc-marketing", "meridian", "params")


def import_model(
    source: str, path: str | Path, options: ImportOptions | None = None
) -> dict[str, Any]:
    """A scenario document (validated) with the curves of a media-mix model file.

    ``source`` is one of ``SOURCES``; a broken file, a missing field or a model that has no
    exact budgetopt curve raises ScenarioError naming the field or path in the file.
    """
    path = Path(path)
    options = options or ImportOptions()
    reader = _reader(source)
    document = reader(path, options)
    validate_scenario(document, f"{path} (imported from {source})")
    return document


def _reader(source: str) -> Callable[[Path, ImportOptions], dict[str, Any]]:
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
