"""Robyn's response, ported line by line from its R code (facebookexperimental/Robyn 3.12.1:
R/R/transformation.R adstock_geometric, adstock_weibull, saturation_hill; R/R/response.R
transform_decomp; and the inflexion of 3.6.4-3.11.x and of 3.6.3 and before), as the tests'
reference. R's 1-based loops are kept where they are the point."""

from __future__ import annotations

import math

import numpy as np


def r_quantile(x: np.ndarray, p: float) -> float:
    """R's quantile(x, p), type 7."""
    s = np.sort(np.asarray(x, dtype=float))
    h = (len(s) - 1) * p
    lo = math.floor(h)
    hi = min(lo + 1, len(s) - 1)
    return float(s[lo] + (h - lo) * (s[hi] - s[lo]))


def r_round(x: float, digits: int = 0) -> float:
    """R's round: IEC 60559, halves to even."""
    return float(np.round(x, digits))


def adstock_geometric(x: np.ndarray, theta: float) -> np.ndarray:
    """x_decayed[xi] <- x[xi] + theta * x_decayed[xi - 1]."""
    x_decayed = [float(x[0])] + [0.0] * (len(x) - 1)
    for xi in range(1, len(x)):
        x_decayed[xi] = float(x[xi]) + theta * x_decayed[xi - 1]
    return np.array(x_decayed)


def dweibull(x: np.ndarray, shape: float, scale: float) -> np.ndarray:
    """R's dweibull."""
    return (shape / scale) * (x / scale) ** (shape - 1) * np.exp(-((x / scale) ** shape))


def pweibull(x: np.ndarray, shape: float, scale: float) -> np.ndarray:
    """R's pweibull."""
    return 1 - np.exp(-((x / scale) ** shape))


def normalize(x: np.ndarray) -> np.ndarray:
    """Robyn's .normalize (3.12.1)."""
    if np.ptp(x) == 0:
        return np.concatenate(([1.0], np.zeros(len(x) - 1)))
    return (x - x.min()) / (x.max() - x.min())


def weibull_theta_vec_cum(shape: float, scale: float, windlen: int, kind: str) -> np.ndarray:
    """thetaVecCum of adstock_weibull."""
    x_bin = np.arange(1, windlen + 1, dtype=float)
    scale_trans = r_round(r_quantile(x_bin, scale), 0)
    if kind == "pdf":
        return normalize(dweibull(x_bin, shape, scale_trans))
    theta_vec = np.concatenate(([1.0], 1 - pweibull(x_bin[:-1], shape, scale_trans)))
    return np.cumprod(theta_vec)


def adstock_weibull(
    x: np.ndarray, shape: float, scale: float, windlen: int, kind: str
) -> np.ndarray:
    """adstock_weibull's mapply: each x at x_pos spreads x * thetaVecCum over the rows after it
    (rows beyond windlen are cut, as Robyn's vectors of length windlen are)."""
    theta = weibull_theta_vec_cum(shape, scale, windlen, kind)
    n = len(x)
    out = np.zeros(n)
    for x_pos in range(1, n + 1):  # R's 1-based position
        for row in range(x_pos, n + 1):
            lag = row - x_pos
            if lag < windlen:
                out[row - 1] += x[x_pos - 1] * theta[lag]
    return out


def inflexion(x: np.ndarray, gamma: float, rule: str) -> float:
    """saturation_hill's inflexion: 3.12+ max * gamma; 3.6.4-3.11 range %*% c(1-g, g); before:
    round(quantile(seq(min, max, length.out = 100), gamma), 4)."""
    if rule == "max":
        return float(np.max(x)) * gamma
    if rule == "interpolate":
        return float(np.min(x)) * (1 - gamma) + float(np.max(x)) * gamma
    grid = np.linspace(float(np.min(x)), float(np.max(x)), 100)
    return r_round(r_quantile(grid, gamma), 4)


def response(
    history: np.ndarray,
    plan: np.ndarray,
    *,
    adstock: str,
    hyper: dict[str, float],
    coef: float,
    window: tuple[int, int],
    rule: str,
) -> np.ndarray:
    """Robyn's weekly response for the plan's weeks after the history: the fitted inflexion
    (history adstocked, cut to the modelling window, as robyn_response's calibrate_inflexion),
    then coef * hill on the adstocked series of history + plan (Weibull windlen: the fitted
    series length)."""
    n = len(history)
    full = np.concatenate([history, plan])
    if adstock == "geometric":
        fitted = adstock_geometric(history, hyper["thetas"])
        total = adstock_geometric(full, hyper["thetas"])
    else:
        kind = adstock.removeprefix("weibull_")
        fitted = adstock_weibull(history, hyper["shapes"], hyper["scales"], n, kind)
        total = adstock_weibull(full, hyper["shapes"], hyper["scales"], n, kind)
    point = inflexion(fitted[window[0] - 1 : window[1]], hyper["gammas"], rule)
    alpha = hyper["alphas"]
    x = total[n:]
    return coef * x**alpha / (x**alpha + point**alpha)
