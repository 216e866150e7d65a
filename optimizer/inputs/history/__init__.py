"""Response curves fitted from a brand's own weekly history (``budgetopt fit``).

``fit_file(path, fit_options, import_options)`` reads a CSV or XLSX of weekly spend,
impressions and attributed GMV per channel (``read``), fits each channel's CPM trend and
promotion windows (``cpm``), every curve family with and without geometric adstock by bounded
least squares (``families``, ``fitting``), picks one by time-series cross-validation
(``crossval``), draws its parameters by a joint moving-block bootstrap (``bootstrap``) and
returns the validated scenario document with the fit report (``document``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from optimizer.inputs.files import validate_scenario
from optimizer.inputs.history.document import fit_report, scenario_from_fit
from optimizer.inputs.history.families import DEFAULT_MAX_LAG, FAMILIES
from optimizer.inputs.history.fit import DEFAULT_DRAWS, FitOptions, HistoryFit, fit_history
from optimizer.inputs.history.read import History, read_history
from optimizer.inputs.mmm.build import ImportOptions

__all__ = [
    "DEFAULT_DRAWS",
    "DEFAULT_MAX_LAG",
    "FAMILIES",
    "FitOptions",
    "FittedHistory",
    "History",
    "HistoryFit",
    "ImportOptions",
    "fit_file",
    "fit_history",
    "read_history",
]


@dataclass(frozen=True)
class FittedHistory:
    """What ``fit_file`` returns: the scenario document, the report and the fit itself."""

    document: dict[str, Any]
    report: dict[str, Any]
    fit: HistoryFit


def fit_file(
    path: str | Path,
    fit_options: FitOptions | None = None,
    options: ImportOptions | None = None,
    source: str | None = None,
) -> FittedHistory:
    """Read, fit and write up a history file; ScenarioError naming the file, column and line
    for a history that cannot be read or fitted. ``source`` names the file in messages."""
    options = options or ImportOptions()
    fit_options = fit_options or FitOptions()
    history = read_history(path, source, fit_options.channels)
    fitted = fit_history(history, fit_options)
    document = scenario_from_fit(fitted, options)
    validate_scenario(document, f"{history.source} (fitted)")
    return FittedHistory(document, fit_report(fitted), fitted)
