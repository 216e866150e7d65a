"""Robyn: the JSON that ``robyn_write()`` exports for one selected model.

Robyn's media response, as ``robyn_response()`` computes it (R/R/transformation.R and
R/R/response.R), is ``coef * x^alpha / (x^alpha + inflexion^alpha)`` on the adstocked input x:

- adstock runs over the whole input series (``InputCollect.totalObservations`` rows of
  ``Extras.raw_data``, in date order): geometric ``d[t] = x[t] + theta d[t-1]``, or Weibull
  CDF / PDF weights over ``windlen`` = the series length with scale ``round(quantile(1:N,
  scale))`` (budgetopt's ``weibull_cdf`` / ``weibull_pdf`` with ``window: N``);
- the inflexion is fixed by the fitted series, the adstocked input inside the modelling window
  (rows ``rollingWindowStartWhich..rollingWindowEndWhich``), by Robyn's version:
  ``gamma * max`` from 3.12.0, ``(1 - gamma) min + gamma max`` from 3.6.4 to 3.11.x, and
  ``round(quantile(seq(min, max, length.out = 100), gamma), 4)`` before 3.6.4;
- the input is the channel's spend; where the model used an exposure variable (3.12+), its
  input is ``exposure * cpe_window`` (Robyn's "spend-scaled exposure", cpe_window = spend /
  exposure summed over the window), which a plan's spend stands for one to one. Before 3.12
  Robyn mapped spend to exposure by a Michaelis-Menten fit, which no curve here reproduces
  exactly: such channels are refused.

So a Robyn channel is a budgetopt ``hill`` response with ``max_gmv_cny = coef``,
``half_saturation_cny = inflexion`` and ``shape = alpha``, its adstock as above, and the input
series as ``history_spend_cny``. Organic variables (no spend) are left out.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np

from optimizer.errors import FieldProblem, ScenarioError
from optimizer.inputs.mmm.build import (
    ImportedChannel,
    ImportOptions,
    channel_id,
    fail,
    finite,
    scenario_document,
)
from optimizer.inputs.mmm.draws import ModelImport
from optimizer.inputs.text import read_text
from optimizer.schema.carry import MAX_LAG, WeibullAdstock

ADSTOCKS = ("geometric", "weibull_cdf", "weibull_pdf")
NO_DRAWS = (
    "a Robyn JSON holds one fitted model, no posterior samples: no draws written (the draws "
    "option is ignored)"
)


def import_robyn(path: Path, options: ImportOptions, draws: int = 0) -> ModelImport:
    """A scenario document from a ``robyn_write()`` JSON (one selected model). It holds one
    fitted model, no posterior: ``draws`` is ignored, with a note."""
    source = str(path)
    doc = _parse(read_text(path), source)
    model = RobynModel(doc, source)
    weeks = len(options.periods())
    channels = [model.channel(i, weeks) for i in range(len(model.spends))]
    kept = [c for c in channels if c is not None]
    if not kept:
        raise fail(source, "ExportedModel.summary", "no paid media channel has a coefficient > 0")
    dropped = [model.spends[i] for i, c in enumerate(channels) if c is None]
    description = (
        f"Imported from Robyn model {model.select_model} ({model.version_text}), "
        f"{model.adstock} adstock, Hill inflexion by its '{model.rule}' rule."
    )
    if dropped:
        description += f" Left out (coefficient 0): {', '.join(dropped)}."
    document = scenario_document(
        kept, options, name=f"Robyn {model.select_model}", description=description
    )
    return ModelImport(document, (NO_DRAWS,) if draws else ())


def _parse(text: str, source: str) -> dict[str, Any]:
    """The JSON document; a syntax error names its line."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ScenarioError(
            source, [FieldProblem("file", f"invalid JSON: {exc.msg}", exc.lineno)], "model file"
        ) from None
    if not isinstance(doc, dict) or "InputCollect" not in doc:
        raise fail(source, "InputCollect", "missing: expected the JSON robyn_write() exports")
    return doc


def robyn_version(text: str) -> tuple[int, int, int]:
    """(major, minor, patch) from InputCollect.version, e.g. 'Robyn (stable) v3.11.1 [R-4.4.0]'."""
    match = re.search(r"v?(\d+)\.(\d+)\.(\d+)", text)
    if not match:
        raise ValueError(f"expected a version like 'Robyn (stable) v3.12.1', got {text!r}")
    return int(match[1]), int(match[2]), int(match[3])


def inflexion_rule(version: tuple[int, int, int]) -> str:
    """Which of Robyn's inflexion formulas a version uses: max, interpolate or quantile."""
    if version >= (3, 12, 0):
        return "max"
    if version >= (3, 6, 4):
        return "interpolate"
    return "quantile"


def inflexion(adstocked_window: np.ndarray, gamma: float, rule: str) -> float:
    """Robyn's Hill inflexion for gamma on the adstocked input in the modelling window."""
    low, high = float(np.min(adstocked_window)), float(np.max(adstocked_window))
    if rule == "max":
        return high * gamma
    if rule == "interpolate":
        return float(np.dot([low, high], [1 - gamma, gamma]))
    grid = np.linspace(low, high, 100)  # R: seq(min, max, length.out = 100)
    return float(np.round(np.quantile(grid, gamma), 4))  # type-7 quantile, as R's default


def geometric_adstocked(x: np.ndarray, theta: float) -> np.ndarray:
    """Robyn's adstock_geometric: d[t] = x[t] + theta d[t-1] over the whole series."""
    out = np.array(x, dtype=float)
    for t in range(1, len(out)):
        out[t] = x[t] + theta * out[t - 1]
    return out


def weighted_adstocked(x: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """sum_l w[l] x[t-l] over the lags the weights span (Robyn's Weibull mapply)."""
    full = np.convolve(np.asarray(x, dtype=float), weights)
    return full[: len(x)]


class RobynModel:
    """The fields of a robyn_write() JSON that the import needs, checked with their paths."""

    def __init__(self, doc: dict[str, Any], source: str) -> None:
        self.source = source
        self.inputs = self._section(doc, "InputCollect")
        exported = self._section(doc, "ExportedModel")
        self.version_text = self._one(self.inputs, "InputCollect.version", str)
        try:
            self.version = robyn_version(self.version_text)
        except ValueError as exc:
            raise fail(source, "InputCollect.version", str(exc)) from None
        self.rule = inflexion_rule(self.version)
        self.adstock = self._one(self.inputs, "InputCollect.adstock", str)
        if self.adstock not in ADSTOCKS:
            raise fail(
                source,
                "InputCollect.adstock",
                f"expected one of {', '.join(ADSTOCKS)}, got {self.adstock!r}",
            )
        dep_type = self._one(self.inputs, "InputCollect.dep_var_type", str)
        if dep_type != "revenue":
            raise fail(
                source,
                "InputCollect.dep_var_type",
                f"expected 'revenue' (GMV in CNY), got {dep_type!r}: a conversion model's "
                "response is not GMV",
            )
        self.spends = self._names("paid_media_spends")
        self.media_vars = self._names("paid_media_vars", default=self.spends)
        if len(self.media_vars) != len(self.spends):
            raise fail(
                source,
                "InputCollect.paid_media_vars",
                f"expected {len(self.spends)} names, one per paid_media_spends, "
                f"got {len(self.media_vars)}",
            )
        self.selected = self._names("paid_media_selected", default=self._selected())
        self.start = self._one(self.inputs, "InputCollect.rollingWindowStartWhich", int)
        self.end = self._one(self.inputs, "InputCollect.rollingWindowEndWhich", int)
        self.select_model = str(self._one(exported, "ExportedModel.select_model", str))
        self.hypers = self._section(exported, "hyper_values", "ExportedModel.hyper_values")
        self.coefs = self._coefficients(exported)
        self.data = self._raw_data(doc)
        if not 1 <= self.start <= self.end <= len(self.data):
            raise fail(
                source,
                "InputCollect.rollingWindowEndWhich",
                f"the window {self.start}..{self.end} does not fit the {len(self.data)} rows "
                "of Extras.raw_data",
            )

    # --- one channel -------------------------------------------------------------------------

    def channel(self, i: int, weeks: int) -> ImportedChannel | None:
        """Paid channel i as a budgetopt curve channel; None when its coefficient is 0."""
        var = self.selected[i]
        coef = self.coefs.get(var)
        if coef is None:
            raise fail(self.source, "ExportedModel.summary", f"no coefficient for '{var}'")
        if coef <= 0:
            return None
        series = self.input_series(i)
        alpha, gamma = self.hyper(var, "alphas"), self.hyper(var, "gammas")
        adstocked, adstock, history = self._carry(var, series, weeks)
        window = adstocked[self.start - 1 : self.end]
        point = inflexion(window, gamma, self.rule)
        return ImportedChannel(
            id=channel_id(self.spends[i]),
            name=self.spends[i] if var == self.spends[i] else f"{self.spends[i]} ({var})",
            response={
                "type": "hill",
                "max_gmv_cny": coef,
                "half_saturation_cny": point,
                "shape": alpha,
            },
            adstock=adstock,
            history_spend_cny=history,
            mean_weekly_spend_cny=float(np.mean(series[self.start - 1 : self.end])),
        )

    def input_series(self, i: int) -> np.ndarray:
        """The model's input for paid channel i over every row: spend, or 3.12's spend-scaled
        exposure (exposure * cpe_window)."""
        spend = self.column(self.spends[i])
        var = self.selected[i]
        if var == self.spends[i]:
            return spend
        exposure = self.column(var)
        window = slice(self.start - 1, self.end)
        total = float(np.sum(exposure[window]))
        if total <= 0:
            raise fail(self.source, f"Extras.raw_data.{var}", "exposure sums to 0 in the window")
        return exposure * (float(np.sum(spend[window])) / total)

    def _carry(
        self, var: str, series: np.ndarray, weeks: int
    ) -> tuple[np.ndarray, dict[str, Any] | None, list[float]]:
        """The adstocked series, the budgetopt adstock and the history that reproduce it."""
        n = len(series)
        if self.adstock == "geometric":
            theta = self.hyper(var, "thetas")
            keep = min(n, MAX_LAG + 1 - weeks)  # the series, or its last weeks (theta^lag > that)
            adstock = {"type": "geometric", "decay": theta, "max_lag": keep + weeks - 1}
            return geometric_adstocked(series, theta), adstock, [float(v) for v in series[-keep:]]
        shape, scale = self.hyper(var, "shapes"), self.hyper(var, "scales")
        if shape == 0 or scale == 0:  # Robyn: no adstock at all
            return series, None, []
        if n > MAX_LAG + 1:
            raise fail(
                self.source,
                "Extras.raw_data",
                f"Weibull weights span the whole series: at most {MAX_LAG + 1} weeks, got {n}",
            )
        adstock = {"type": self.adstock, "shape": shape, "scale": scale, "window": n}
        weights = WeibullAdstock.model_validate(adstock).weights(n)
        history = [float(v) for v in series[1:]]  # lags up to n-1 reach the plan
        return weighted_adstocked(series, weights), adstock, history

    # --- reading fields ----------------------------------------------------------------------

    def hyper(self, var: str, kind: str) -> float:
        """A fitted hyperparameter, e.g. tv_S_thetas, from ExportedModel.hyper_values."""
        key = f"{var}_{kind}"
        value = self._one(self.hypers, f"ExportedModel.hyper_values.{key}", float)
        if not finite(value) or value < 0:
            raise fail(
                self.source, f"ExportedModel.hyper_values.{key}", f"expected >= 0, got {value}"
            )
        return float(value)

    def column(self, name: str) -> np.ndarray:
        """A numeric column of Extras.raw_data."""
        try:
            values = np.array([row[name] for row in self.data], dtype=float)
        except KeyError:
            raise fail(self.source, f"Extras.raw_data.{name}", "missing column") from None
        except (TypeError, ValueError):
            raise fail(self.source, f"Extras.raw_data.{name}", "expected numbers") from None
        if not np.all(np.isfinite(values)) or np.any(values < 0):
            raise fail(self.source, f"Extras.raw_data.{name}", "expected numbers >= 0")
        return values

    def _selected(self) -> list[str]:
        """The variable the model used for each paid channel (InputCollect's own rule)."""
        selected = []
        for i, (spend, var) in enumerate(zip(self.spends, self.media_vars, strict=True)):
            if var == spend:
                selected.append(spend)
            elif self.version >= (3, 12, 0):
                selected.append(var)
            elif spend in self._names("all_media", default=self.spends):
                selected.append(spend)
            else:
                raise fail(
                    self.source,
                    f"InputCollect.paid_media_vars[{i}]",
                    f"'{var}' is an exposure variable, which Robyn "
                    f"{'.'.join(map(str, self.version))} maps to spend by a Michaelis-Menten fit: "
                    "no budgetopt curve reproduces that exactly (Robyn 3.12+ scales exposure "
                    "linearly; re-export with it)",
                )
        return selected

    def _coefficients(self, exported: dict[str, Any]) -> dict[str, float]:
        """Coefficient by variable from ExportedModel.summary."""
        rows = exported.get("summary")
        if not isinstance(rows, list):
            raise fail(self.source, "ExportedModel.summary", "missing: expected a list of rows")
        coefs = {}
        for k, row in enumerate(rows):
            if isinstance(row, dict) and "variable" in row and finite(row.get("coef")):
                coefs[str(row["variable"])] = float(row["coef"])
            else:
                raise fail(self.source, f"ExportedModel.summary[{k}]", "expected variable and coef")
        return coefs

    def _raw_data(self, doc: dict[str, Any]) -> list[dict[str, Any]]:
        """Extras.raw_data, in date order (Robyn arranges its input by date)."""
        extras = doc.get("Extras")
        rows = extras.get("raw_data") if isinstance(extras, dict) else None
        if not isinstance(rows, list) or not rows or not all(isinstance(r, dict) for r in rows):
            raise fail(
                self.source,
                "Extras.raw_data",
                "missing: export with robyn_write(..., add_data = TRUE) so the input data "
                "(spend history, for the carry-over and the inflexion) is in the file",
            )
        date = self._one(self.inputs, "InputCollect.date_var", str)
        if any(date not in r for r in rows):
            raise fail(self.source, f"Extras.raw_data.{date}", "missing date column")
        return sorted(rows, key=lambda r: str(r[date]))

    def _names(self, key: str, default: list[str] | None = None) -> list[str]:
        value = self.inputs.get(key)
        if value is None and default is not None:
            return default
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
            raise fail(self.source, f"InputCollect.{key}", "expected a list of names")
        return value

    def _section(self, doc: dict[str, Any], key: str, path: str | None = None) -> dict[str, Any]:
        value = doc.get(key)
        if not isinstance(value, dict):
            raise fail(self.source, path or key, "missing: expected a JSON object")
        return value

    def _one(self, section: dict[str, Any], path: str, kind: type) -> Any:
        """A scalar that robyn_write() stores as a one-element list (or as the value)."""
        value = section.get(path.rsplit(".", 1)[-1])
        if isinstance(value, list) and len(value) == 1:
            value = value[0]
        if value is None:
            raise fail(self.source, path, "missing")
        try:
            if kind is int and float(value) != int(float(value)):
                raise ValueError
            return kind(float(value)) if kind is int else kind(value)
        except (TypeError, ValueError):
            raise fail(self.source, path, f"expected {kind.__name__}, got {value!r}") from None
