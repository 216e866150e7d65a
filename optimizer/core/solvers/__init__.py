"""Solver backends behind one interface, looked up by name."""

from __future__ import annotations

import functools
import importlib

from optimizer.core.solvers.base import LinearProgram, Solution, Solver, Status
from optimizer.errors import SolverUnavailableError

# name -> (module, class): a backend's module (and PuLP or highspy with it) is imported only
# when a plan needs an LP solver, so that plans by the dual method do not pay for them
REGISTRY: dict[str, tuple[str, str]] = {
    "highs": ("optimizer.core.solvers.pulp_highs", "HighsSolver"),
    "cbc": ("optimizer.core.solvers.pulp_cbc", "CbcSolver"),
    "highs-direct": ("optimizer.core.solvers.highs_direct", "HighsDirectSolver"),
}
FALLBACK_ORDER = ("highs", "cbc", "highs-direct")

__all__ = [
    "LinearProgram",
    "Solution",
    "Solver",
    "Status",
    "available_solvers",
    "get_solver",
    "library_versions",
]


def backend(name: str) -> type[Solver]:
    """The class of a registered backend, imported on first use."""
    module, cls = REGISTRY[name]
    found: type[Solver] = getattr(importlib.import_module(module), cls)
    return found


def available_solvers() -> list[str]:
    """Names of the backends that can run here, default first."""
    return [name for name in FALLBACK_ORDER if backend(name)().is_available()]


def get_solver(name: str | None = None) -> Solver:
    """The named backend, or the first available one (PuLP+HiGHS, then CBC) when name is None."""
    if name is None:
        for candidate in available_solvers():
            return backend(candidate)()
        raise SolverUnavailableError("no solver available: install highspy or PuLP's CBC")
    if name not in REGISTRY:
        known = ", ".join(REGISTRY)
        raise SolverUnavailableError(f"unknown solver '{name}'; known: {known}")
    solver = backend(name)()
    if not solver.is_available():
        raise SolverUnavailableError(f"solver '{name}' is not available on this machine")
    return solver


LIBRARIES = ("highspy", "pulp", "cbcbox", "scipy", "numpy")


def library_versions() -> dict[str, str]:
    """Installed versions of the libraries whose releases can change a plan's numbers."""
    return dict(_library_versions())


@functools.cache
def _library_versions() -> dict[str, str]:
    """Read once per process: each lookup parses a package's metadata file (about 3 ms, which
    was most of the time a small plan took through the API)."""
    from importlib import metadata

    found = {}
    for name in LIBRARIES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found
