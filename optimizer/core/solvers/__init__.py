"""Solver backends behind one interface, looked up by name."""

from __future__ import annotations

from optimizer.core.solvers.base import LinearProgram, Solution, Solver, Status
from optimizer.core.solvers.highs_direct import HighsDirectSolver
from optimizer.core.solvers.pulp_cbc import CbcSolver
from optimizer.core.solvers.pulp_highs import HighsSolver
from optimizer.errors import SolverUnavailableError

REGISTRY: dict[str, type[Solver]] = {
    "highs": HighsSolver,
    "cbc": CbcSolver,
    "highs-direct": HighsDirectSolver,
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


def available_solvers() -> list[str]:
    """Names of the backends that can run here, default first."""
    return [name for name in FALLBACK_ORDER if REGISTRY[name]().is_available()]


def get_solver(name: str | None = None) -> Solver:
    """The named backend, or the first available one (PuLP+HiGHS, then CBC) when name is None."""
    if name is None:
        for candidate in available_solvers():
            return REGISTRY[candidate]()
        raise SolverUnavailableError("no solver available: install highspy or PuLP's CBC")
    if name not in REGISTRY:
        known = ", ".join(REGISTRY)
        raise SolverUnavailableError(f"unknown solver '{name}'; known: {known}")
    solver = REGISTRY[name]()
    if not solver.is_available():
        raise SolverUnavailableError(f"solver '{name}' is not available on this machine")
    return solver


LIBRARIES = ("highspy", "pulp", "cbcbox", "scipy", "numpy")


def library_versions() -> dict[str, str]:
    """Installed versions of the libraries whose releases can change a plan's numbers."""
    from importlib import metadata

    found = {}
    for name in LIBRARIES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found
