"""PyMC-Marketing: a model saved with ``MMM.save()`` (an InferenceData NetCDF file).

PyMC-Marketing fits on scaled data: each channel's spend divided by its ``channel_scale`` and
the target by ``target_scale`` (both in the file's ``constant_data``). A channel's contribution
in target units (GMV, CNY) is ``target_scale * saturation(adstock(x / channel_scale))``, or
``target_scale * adstock(saturation(x / channel_scale))`` with ``adstock_first`` false. Undoing
the scaling gives a budgetopt response in CNY, at the posterior means of its parameters:

==================  ==========================================================================
saturation          budgetopt response
==================  ==========================================================================
logistic            logistic: max_gmv = target_scale beta, scale = channel_scale / lam
tanh                tanh: max_gmv = target_scale b, scale = channel_scale b c
michaelis_menten    michaelis_menten: max_gmv = target_scale alpha, half = channel_scale lam
hill                hill: max_gmv = target_scale beta, half = channel_scale kappa, shape = slope
no_saturation       linear: roas = target_scale beta / channel_scale
==================  ==========================================================================

Adstock weights are PyMC-Marketing's own (``pymc_marketing.mmm.transformers``) over l_max lags:
geometric is budgetopt's geometric (max_lag = l_max - 1); delayed, binomial and the Weibull
PDF / CDF (whose CDF weights run over l_max + 1 lags) are written lag by lag (``weights``);
``normalize`` is kept. An import with draws converts each picked posterior sample the same way
(``draws.py``): its response parameters, and a geometric adstock's decay; an adstock written as
``weights`` keeps its value at the posterior means.
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
    finite,
    history_cny,
    scenario_document,
)
from optimizer.inputs.mmm.draws import ModelImport, Sampling, channel_draws, draws_summary
from optimizer.inputs.mmm.netcdf import InferenceFile, open_inference_file

ADSTOCK_PARAMS = {
    "geometric": ("alpha",),
    "delayed": ("alpha", "theta"),
    "binomial": ("alpha",),
    "weibull_pdf": ("lam", "k"),
    "weibull_cdf": ("lam", "k"),
    "no_adstock": (),
}
SATURATION_PARAMS = {
    "logistic": ("lam", "beta"),
    "tanh": ("b", "c"),
    "michaelis_menten": ("alpha", "lam"),
    "hill": ("slope", "kappa", "beta"),
    "no_saturation": ("beta",),
}


def import_pymc_marketing(path: Path, options: ImportOptions, draws: int = 0) -> ModelImport:
    """A scenario document from a PyMC-Marketing ``MMM.save()`` file (posterior means), with
    ``draws`` of its posterior samples (0: none)."""
    model = PymcModel(open_inference_file(path))
    sampling = Sampling.evenly(draws, model.draw_count())
    samples = model.samples(sampling.picks)
    channels = [model.channel(i, samples) for i in range(len(model.channels))]
    drawn, notes = draws_summary(sampling, channels)
    description = (
        f"Imported from PyMC-Marketing {model.version} ({model.adstock['lookup_name']} adstock, "
        f"{model.saturation['lookup_name']} saturation, "
        f"{'adstock first' if model.adstock_first else 'saturation first'}) at the posterior "
        f"means of {sampling.available} draws."
    )
    document = scenario_document(
        channels,
        options,
        name=f"PyMC-Marketing MMM {path.stem}",
        description=f"{description} {drawn}".strip(),
    )
    return ModelImport(document, tuple(notes), sampling.count)


def adstock_weights(kind: str, params: dict[str, float], l_max: int) -> np.ndarray:
    """PyMC-Marketing's adstock weights for one channel, lag 0 first (not normalised)."""
    lags = np.arange(l_max, dtype=float)
    if kind == "geometric":
        return params["alpha"] ** lags
    if kind == "delayed":
        return params["alpha"] ** ((lags - params["theta"]) ** 2)
    if kind == "binomial":
        return (1 - lags / (l_max + 1)) ** (1 / params["alpha"] - 1)
    t, lam, k = lags + 1, params["lam"], params["k"]
    if kind == "weibull_pdf":
        pdf = (k / lam) * (t / lam) ** (k - 1) * np.exp(-((t / lam) ** k))
        return (pdf - pdf.min()) / (pdf.max() - pdf.min())
    survive = np.exp(-((t / lam) ** k))  # 1 - Weibull CDF
    return np.cumprod(np.concatenate(([1.0], survive)))


def saturation_response(
    kind: str, params: dict[str, float], channel_scale: float, target_scale: float
) -> dict[str, Any]:
    """The budgetopt response in CNY for a PyMC-Marketing saturation with its scales undone."""
    if kind == "logistic":
        return {
            "type": "logistic",
            "max_gmv_cny": target_scale * params["beta"],
            "scale_cny": channel_scale / params["lam"],
        }
    if kind == "tanh":
        return {
            "type": "tanh",
            "max_gmv_cny": target_scale * params["b"],
            "scale_cny": channel_scale * params["b"] * params["c"],
        }
    if kind == "michaelis_menten":
        return {
            "type": "michaelis_menten",
            "max_gmv_cny": target_scale * params["alpha"],
            "half_saturation_cny": channel_scale * params["lam"],
        }
    if kind == "hill":
        return {
            "type": "hill",
            "max_gmv_cny": target_scale * params["beta"],
            "half_saturation_cny": channel_scale * params["kappa"],
            "shape": params["slope"],
        }
    return {"type": "linear", "roas": target_scale * params["beta"] / channel_scale}


class PymcModel:
    """The parts of a PyMC-Marketing file the import needs, checked with their paths."""

    def __init__(self, data: InferenceFile) -> None:
        self.data = data
        self.source = data.source
        if data.attrs.get("source") == "meridian":
            raise fail(self.source, "attrs.source", "a Meridian export: import it as meridian")
        self.version = data.group("posterior").attrs.get("pymc_marketing_version", "?")
        self.channels = [str(c) for c in data.attr("channel_columns", parse_json=True)]
        self.adstock = self._component("adstock", ADSTOCK_PARAMS)
        self.saturation = self._component("saturation", SATURATION_PARAMS)
        self.adstock_first = bool(data.attr("adstock_first", parse_json=True))
        if data.attr("time_varying_media", parse_json=True, default=False) not in (False, None):
            raise fail(
                self.source,
                "attrs.time_varying_media",
                "a time-varying media effect has no fixed curve to import",
            )
        dims = data.attr("dims", parse_json=True, default=[])
        if dims:
            raise fail(
                self.source, "attrs.dims", f"a model by {dims} is not supported, only national"
            )
        if self.adstock.get("mode", "After") != "After":
            raise fail(
                self.source,
                "attrs.adstock.mode",
                f"expected 'After' (carry-over into later weeks), got {self.adstock['mode']!r}",
            )
        self.channel_scale = self._per_channel("constant_data", "channel_scale")
        target = data.variable("constant_data", "target_scale").to_numpy()
        if target.size != 1 or not finite(target.reshape(-1)[0]) or float(target.flat[0]) <= 0:
            raise fail(self.source, "constant_data.target_scale", "expected one number > 0")
        self.target_scale = float(target.reshape(-1)[0])
        self.spend = self._spend()

    def channel(self, i: int, samples: dict[str, np.ndarray] | None = None) -> ImportedChannel:
        """Channel i at the posterior means, in CNY, with a draw per sample of ``samples``
        (``samples()``: posterior variable -> sample x channel)."""
        name = self.channels[i]
        means = {var: self._mean(var, i) for var in self.variables()}
        response, adstock = self._curve(i, means)
        curves = []
        if samples:
            count = len(next(iter(samples.values())))
            curves = [
                self._curve(i, {v: s[k, i] for v, s in samples.items()}) for k in range(count)
            ]
        lags = 0 if adstock is None else self._lags(adstock)
        return ImportedChannel(
            id=channel_id(name),
            name=name,
            response=response,
            adstock=adstock,
            history_spend_cny=history_cny(self.spend[:, i], lags),
            mean_weekly_spend_cny=float(np.mean(self.spend[:, i])),
            draws=channel_draws((response, adstock), curves),
        )

    def variables(self) -> list[str]:
        """The posterior variables of the adstock and saturation parameters."""
        return [
            self._variable(component, param)
            for component, known in (
                (self.adstock, ADSTOCK_PARAMS),
                (self.saturation, SATURATION_PARAMS),
            )
            for param in known[component["kind"]]
        ]

    def samples(self, picks: np.ndarray) -> dict[str, np.ndarray]:
        """Each parameter's values at the picked posterior samples (sample x channel)."""
        if not len(picks):
            return {}
        out = {}
        for name in self.variables():
            var = self.data.samples(name, picks)
            values = self._by_channel(var, f"posterior.{name}", lead=("sample",))
            if not np.all(np.isfinite(values)):
                raise fail(self.source, f"posterior.{name}", "not finite in every sample")
            out[name] = values
        return out

    def _curve(
        self, i: int, params: dict[str, float]
    ) -> tuple[dict[str, Any], dict[str, Any] | None]:
        """Channel i's response and adstock in CNY for one set of parameters (posterior
        variable -> value): the posterior means or one sample."""
        ad = {
            p: float(params[self._variable(self.adstock, p)])
            for p in ADSTOCK_PARAMS[self.adstock["kind"]]
        }
        sat = {
            p: float(params[self._variable(self.saturation, p)])
            for p in SATURATION_PARAMS[self.saturation["kind"]]
        }
        response = saturation_response(
            self.saturation["kind"], sat, float(self.channel_scale[i]), self.target_scale
        )
        return response, self._adstock(ad)

    def draw_count(self) -> int:
        """Chains x draws of the posterior."""
        return self.data.sample_count()

    def _adstock(self, params: dict[str, float]) -> dict[str, Any] | None:
        kind, l_max = self.adstock["kind"], self.adstock["l_max"]
        order = "before_saturation" if self.adstock_first else "after_saturation"
        normalize = bool(self.adstock.get("normalize", True))
        if kind == "no_adstock":
            return None
        if kind == "geometric" and params["alpha"] < 1:
            return {
                "type": "geometric",
                "decay": params["alpha"],
                "max_lag": l_max - 1,
                "normalize": normalize,
                "order": order,
            }
        weights = adstock_weights(kind, params, l_max)
        return {
            "type": "weights",
            "weights_by_lag": [float(w) for w in weights],
            "normalize": normalize,
            "order": order,
        }

    @staticmethod
    def _lags(adstock: dict[str, Any]) -> int:
        """The last lag with a weight: the history the plan's first weeks need."""
        if adstock["type"] == "geometric":
            return int(adstock["max_lag"])
        return len(adstock["weights_by_lag"]) - 1

    def _component(self, key: str, known: dict[str, tuple[str, ...]]) -> dict[str, Any]:
        spec = self.data.attr(key, parse_json=True)
        kind = spec.get("lookup_name") if isinstance(spec, dict) else None
        if kind not in known:
            raise fail(
                self.source,
                f"attrs.{key}.lookup_name",
                f"expected one of {', '.join(known)}, got {kind!r}",
            )
        spec = dict(spec, kind=kind)
        if key == "adstock":
            l_max = spec.get("l_max")
            if not isinstance(l_max, int) or not 1 <= l_max <= 520:
                raise fail(self.source, "attrs.adstock.l_max", f"expected 1 to 520, got {l_max!r}")
        return spec

    @staticmethod
    def _variable(component: dict[str, Any], param: str) -> str:
        """The posterior variable of a component's parameter: ``<prefix>_<param>``."""
        return f"{component.get('prefix') or component['kind']}_{param}"

    def _mean(self, name: str, i: int) -> float:
        """The posterior mean of variable ``name`` for channel i."""
        values = self._per_channel("posterior", name, draws=True)
        value = float(values[i])
        if not finite(value):
            raise fail(self.source, f"posterior.{name}", f"not a finite number for channel {i}")
        return value

    def _per_channel(self, group: str, name: str, *, draws: bool = False) -> np.ndarray:
        """A variable with one value per channel (the mean over chain and draw if asked)."""
        var = self.data.variable(group, name)
        if draws:
            var = var.mean([d for d in ("chain", "draw") if d in var.dims])
        values = self._by_channel(var, f"{group}.{name}")
        if group == "constant_data" and (not np.all(np.isfinite(values)) or np.any(values <= 0)):
            raise fail(self.source, f"{group}.{name}", "expected numbers > 0, one per channel")
        return values

    def _by_channel(self, var: Any, where: str, lead: tuple[str, ...] = ()) -> np.ndarray:
        """A variable's values by channel (dims ``lead`` then channel), the channels checked
        against attrs.channel_columns; one value for all channels is repeated."""
        if "channel" in var.dims and var.dims != (*lead, "channel"):
            raise fail(self.source, where, f"expected dims {(*lead, 'channel')}, got {var.dims}")
        if "channel" not in var.dims:
            values = var.to_numpy().astype(float)
            return np.repeat(values[..., None], len(self.channels), axis=-1)
        labels = [str(c) for c in var["channel"].to_numpy()]
        if labels != self.channels:
            raise fail(
                self.source,
                where,
                f"channels {labels} differ from attrs.channel_columns {self.channels}",
            )
        return var.to_numpy().astype(float)

    def _spend(self) -> np.ndarray:
        """The fitted weeks' spend (date x channel), from constant_data.channel_data."""
        var = self.data.variable("constant_data", "channel_data")
        if var.dims != ("date", "channel"):
            raise fail(
                self.source,
                "constant_data.channel_data",
                f"expected dims (date, channel), got {var.dims}",
            )
        spend = var.to_numpy().astype(float)
        if not np.all(np.isfinite(spend)) or np.any(spend < 0):
            raise fail(self.source, "constant_data.channel_data", "expected spend >= 0")
        return spend


def posterior_draws(path: Path) -> dict[str, np.ndarray]:
    """Every posterior draw of the adstock and saturation parameters (chain x draw x channel),
    by PyMC-Marketing variable name: kept in the model file for ranges (P10 / P90) later."""
    model = PymcModel(open_inference_file(path))
    return {name: model.data.variable("posterior", name).to_numpy() for name in model.variables()}
