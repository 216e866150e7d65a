"""Meridian: its fitted Hill and adstock parameters and input data, from a NetCDF file.

Meridian's own ``save_mmm`` is a pickle, which must never be loaded from a file of unknown
origin; budgetopt reads instead an InferenceData NetCDF file holding Meridian's posterior
(``alpha_m``, ``ec_m``, ``slope_m``, ``beta_gm``), its input data (``constant_data``: ``kpi``,
``media``, ``media_spend``, ``population``, optional ``revenue_per_kpi``) and its model spec
(attributes ``max_lag``, ``hill_before_adstock``, ``adstock_decay_spec``, ``saturation_spec``,
``kpi_type``). ``tests/fixtures/mmm/make_meridian.py`` shows the ten lines that write it from a
fitted ``Meridian`` object.

Meridian (meridian/model: adstock_hill, transformers) models a geo g and channel m as
``beta_gm * hill(adstock(media / (population_g * median_m)))`` in KPI scaled to
``(kpi / population - mean) / stdev``; so in KPI units the contribution is
``beta_gm * stdev * population_g * hill(...)``, times ``revenue_per_kpi`` for a KPI that is not
revenue. ``median_m`` is the median of the channel's non-zero media per person over geos and
weeks; ``stdev`` the (population) standard deviation of KPI per person. Hill is
``m^slope / (m^slope + ec^slope)``. Adstock weights over ``W = min(max_lag + 1, media weeks)``
lags are ``alpha^l`` (geometric) or ``(1 - l / W)^(1 / alpha - 1)`` (binomial), always
normalised to sum 1. Spend buys media at the channel's historical rate in each geo (media /
spend summed over the fitted weeks), as Meridian's optimiser assumes.

Each (geo, channel) becomes a budgetopt ``hill`` channel (``linear`` for saturation ``none``)
in CNY of spend: ``max_gmv_cny = beta_gm stdev population_g``, ``half_saturation_cny =
ec_m population_g median_m / (media per CNY)``, ``shape = slope_m``; a national model (one
geo) names channels by channel, a geo model ``<channel>-<geo>`` with the channel as group.
An import with draws converts each picked posterior sample the same way (``draws.py``): the
Hill parameters, and a geometric adstock's decay; binomial weights keep their posterior means.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from optimizer.inputs.mmm.build import (
    ImportedChannel,
    ImportOptions,
    channel_id,
    fail,
    history_cny,
    scenario_document,
)
from optimizer.inputs.mmm.draws import ModelImport, Sampling, channel_draws, draws_summary
from optimizer.inputs.mmm.netcdf import InferenceFile, open_inference_file

PARAMS = ("alpha_m", "ec_m", "slope_m", "beta_gm")
DECAYS = ("geometric", "binomial")
SATURATIONS = ("hill", "none")


def import_meridian(path: Path, options: ImportOptions, draws: int = 0) -> ModelImport:
    """A scenario document from a Meridian NetCDF export (posterior means), with ``draws`` of
    its posterior samples (0: none)."""
    model = MeridianModel(open_inference_file(path))
    sampling = Sampling.evenly(draws, model.data.sample_count())
    samples = model.samples(sampling.picks)
    channels = [model.channel(g, m, samples) for g, m in model.order]
    drawn, notes = draws_summary(sampling, channels)
    description = (
        f"Imported from Meridian {model.version} ({len(model.geos)} geo(s), max_lag "
        f"{model.max_lag}, {'Hill before adstock' if model.hill_first else 'adstock before Hill'})"
        " at the posterior means."
    )
    if model.revenue_note:
        description += " " + model.revenue_note
    if drawn:
        description += " " + drawn
    doc = scenario_document(
        channels, options, name=f"Meridian {path.stem}", description=description
    )
    if len(model.geos) > 1:
        for channel, (_, m) in zip(doc["channels"], model.order, strict=True):
            channel["groups"] = [channel_id(model.channels[m])]
    return ModelImport(doc, tuple(notes), sampling.count)


def decay_weights(kind: str, alpha: float, window: int) -> np.ndarray:
    """Meridian's normalised adstock weights, lag 0 first, over ``window`` lags."""
    lags = np.arange(window, dtype=float)
    binomial = (1 - lags / window) ** (1 / alpha - 1) if kind == "binomial" else None
    weights = alpha**lags if binomial is None else binomial
    return weights / np.sum(weights)


class MeridianModel:
    """The parts of a Meridian export the import needs, checked with their paths."""

    def __init__(self, data: InferenceFile) -> None:
        self.data = data
        self.source = data.source
        if data.attr("source", default=None) != "meridian":
            looks = " (a PyMC-Marketing file?)" if "channel_columns" in data.attrs else ""
            raise fail(
                self.source,
                "attrs.source",
                f"expected 'meridian', the export README.md describes; got "
                f"{data.attrs.get('source')!r}{looks}",
            )
        self.version = str(data.attr("meridian_version", default="?"))
        self.max_lag = int(data.attr("max_lag"))
        self.hill_first = bool(data.attr("hill_before_adstock", parse_json=True))
        media = data.variable("constant_data", "media")
        self._check_dims("media", media, ("geo", "media_time", "media_channel"))
        self.geos = [str(g) for g in media["geo"].to_numpy()]
        self.channels = [str(c) for c in media["media_channel"].to_numpy()]
        self.order = [(g, m) for m in range(len(self.channels)) for g in range(len(self.geos))]
        self.media = self._numbers("media", media.to_numpy())
        spend = data.variable("constant_data", "media_spend")
        self._check_dims("media_spend", spend, ("geo", "time", "media_channel"))
        self.spend = self._numbers("media_spend", spend.to_numpy())
        self.population = self._numbers(
            "population", data.variable("constant_data", "population").to_numpy(), positive=True
        )
        kpi = self._numbers("kpi", data.variable("constant_data", "kpi").to_numpy(), signed=True)
        per_person = kpi / self.population[:, None]
        self.kpi_stdev = float(np.std(per_person))
        self.revenue, self.revenue_note = self._revenue_per_kpi()
        self.decays = self._per_channel_spec("adstock_decay_spec", DECAYS, "geometric")
        self.saturations = self._per_channel_spec("saturation_spec", SATURATIONS, "hill")
        self.window = min(self.max_lag + 1, self.media.shape[1])
        self.median = self._media_median()
        n_times = self.spend.shape[1]
        bought = self.media[:, -n_times:, :].sum(axis=1)
        paid = self.spend.sum(axis=1)
        if np.any(paid <= 0) or np.any(bought <= 0):
            raise fail(self.source, "constant_data.media_spend", "a geo and channel with no spend")
        self.media_per_cny = bought / paid  # geo x channel

    def channel(
        self, g: int, m: int, samples: dict[str, np.ndarray] | None = None
    ) -> ImportedChannel:
        """Geo g, channel m at the posterior means, in CNY of spend, with a draw per sample of
        ``samples`` (``samples()``: posterior variable -> sample x its dims)."""
        means = {name: self._mean(name, m, g if name == "beta_gm" else None) for name in PARAMS}
        response, adstock = self._curve(g, m, means)
        curves = []
        if samples:
            count = len(samples["alpha_m"])
            curves = [self._curve(g, m, _at(samples, k, g, m)) for k in range(count)]
        name = self.channels[m] if len(self.geos) == 1 else f"{self.channels[m]}-{self.geos[g]}"
        history = self.media[g, :, m] / self.media_per_cny[g, m]  # media in CNY of spend
        return ImportedChannel(
            id=channel_id(name),
            name=name,
            response=response,
            adstock=adstock,
            history_spend_cny=history_cny(history, self.window - 1),
            mean_weekly_spend_cny=float(np.mean(self.spend[g, :, m])),
            draws=channel_draws((response, adstock), curves),
        )

    def samples(self, picks: np.ndarray) -> dict[str, np.ndarray]:
        """Each parameter's values at the picked posterior samples (sample x media_channel;
        beta_gm: sample x geo x media_channel)."""
        if not len(picks):
            return {}
        out = {}
        for name in PARAMS:
            var = self.data.samples(name, picks)
            dims = (
                ("sample", "geo", "media_channel")
                if name == "beta_gm"
                else ("sample", "media_channel")
            )
            if tuple(var.dims) != dims:
                raise fail(
                    self.source, f"posterior.{name}", f"expected dims {dims}, got {var.dims}"
                )
            values = var.to_numpy().astype(float)
            if not np.all(np.isfinite(values)) or np.any(values < 0):
                raise fail(
                    self.source, f"posterior.{name}", "expected numbers >= 0 in every sample"
                )
            out[name] = values
        return out

    def _curve(
        self, g: int, m: int, params: dict[str, float]
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """Geo g, channel m's response and adstock in CNY of spend for one set of parameters
        (``alpha_m``, ``ec_m``, ``slope_m``, ``beta_gm``): the posterior means or one sample."""
        alpha, ec, slope, beta = (params[name] for name in PARAMS)
        scale_cny = self.population[g] * self.median[m] / self.media_per_cny[g, m]
        value = beta * self.kpi_stdev * self.population[g] * self.revenue[g]
        if self.saturations[m] == "hill":
            response = {
                "type": "hill",
                "max_gmv_cny": value,
                "half_saturation_cny": ec * scale_cny,
                "shape": slope,
            }
        else:
            response = {"type": "linear", "roas": value / scale_cny}
        order = "after_saturation" if self.hill_first else "before_saturation"
        adstock: dict[str, Any]
        if self.decays[m] == "geometric" and alpha < 1:
            adstock = {"type": "geometric", "decay": alpha, "max_lag": self.window - 1}
        else:
            weights = decay_weights(self.decays[m], alpha, self.window)
            adstock = {"type": "weights", "weights_by_lag": [float(w) for w in weights]}
        adstock.update(normalize=True, order=order)
        return response, adstock

    def _media_median(self) -> np.ndarray:
        """Per channel: the median of non-zero media per person over geos and weeks."""
        per_person = self.media / self.population[:, None, None]
        medians = []
        for m, name in enumerate(self.channels):
            values = per_person[:, :, m]
            values = values[values != 0]
            if values.size == 0:
                raise fail(self.source, f"constant_data.media[{name}]", "all zero")
            medians.append(float(np.median(values)))
        return np.array(medians)

    def _revenue_per_kpi(self) -> tuple[np.ndarray, str]:
        """GMV per unit of KPI, by geo: 1 for a revenue KPI."""
        kind = str(self.data.attr("kpi_type", default="revenue"))
        if kind == "revenue":
            return np.ones(len(self.geos)), ""
        if "revenue_per_kpi" not in self.data.group("constant_data"):
            raise fail(
                self.source,
                "constant_data.revenue_per_kpi",
                f"missing: the KPI is {kind!r}, not revenue, so GMV needs revenue per KPI",
            )
        values = self._numbers(
            "revenue_per_kpi", self.data.variable("constant_data", "revenue_per_kpi").to_numpy()
        )
        last = values[:, -1]
        if np.allclose(values, last[:, None], rtol=0, atol=0):
            return last, ""
        return last, "Revenue per KPI varies by week: its last week's value is used."

    def _per_channel_spec(self, key: str, allowed: tuple[str, ...], default: str) -> list[str]:
        """A spec given once or per channel (JSON text, a name or a channel -> name map)."""
        raw = self.data.attr(key, default=None)
        if raw is None:
            spec: Any = default
        else:
            spec = raw if raw in allowed else self.data.attr(key, parse_json=True)
        values = [spec] * len(self.channels) if isinstance(spec, str) else None
        if isinstance(spec, dict):
            values = [spec.get(c, default) for c in self.channels]
        if values is None or any(v not in allowed for v in values):
            raise fail(
                self.source,
                f"attrs.{key}",
                f"expected {' or '.join(allowed)} per channel, got {spec!r}",
            )
        return values

    def _mean(self, name: str, m: int, g: int | None = None) -> float:
        var = self.data.variable("posterior", name)
        dims = ("geo", "media_channel") if g is not None else ("media_channel",)
        mean = var.mean([d for d in ("chain", "draw") if d in var.dims])
        if mean.dims != dims:
            raise fail(self.source, f"posterior.{name}", f"expected dims {dims}, got {mean.dims}")
        value = float(mean.to_numpy()[(g, m) if g is not None else m])
        if not np.isfinite(value) or value < 0:
            raise fail(self.source, f"posterior.{name}", f"expected a number >= 0, got {value}")
        return value

    def _check_dims(self, name: str, var: Any, dims: tuple[str, ...]) -> None:
        if tuple(var.dims) != dims:
            raise fail(
                self.source, f"constant_data.{name}", f"expected dims {dims}, got {var.dims}"
            )

    def _numbers(
        self, name: str, values: np.ndarray, *, positive: bool = False, signed: bool = False
    ) -> np.ndarray:
        values = np.asarray(values, dtype=float)
        bad = ~np.isfinite(values)
        if not signed:
            bad |= values <= 0 if positive else values < 0
        if np.any(bad):
            expected = "finite numbers" if signed else "numbers > 0" if positive else "numbers >= 0"
            raise fail(self.source, f"constant_data.{name}", f"expected {expected}")
        return values


def _at(samples: dict[str, np.ndarray], k: int, g: int, m: int) -> dict[str, float]:
    """Sample k's parameters of geo g, channel m."""
    return {
        name: float(values[k, g, m] if name == "beta_gm" else values[k, m])
        for name, values in samples.items()
    }


def posterior_draws(path: Path) -> dict[str, np.ndarray]:
    """Every posterior draw of the Hill and adstock parameters (chain x draw x ...), by
    Meridian's variable name: kept in the export for ranges (P10 / P90) later."""
    data = open_inference_file(path)
    MeridianModel(data)  # the same checks as an import
    return {name: data.variable("posterior", name).to_numpy() for name in PARAMS}
