"""What a plan records of how it was made, and the hash of it: same fingerprint, same bytes.

A plan's numbers depend on the normalised scenario, the solve settings in force, this
package's version and the versions of the solver libraries; all of them go into the
fingerprint, and the settings (with the HiGHS options they imply) into ``plan.settings``.
"""

from __future__ import annotations

import functools
import hashlib
import json
from importlib import metadata
from typing import Any

from optimizer.core.solvers import library_versions
from optimizer.core.solvers.output import highs_options
from optimizer.schema.scenario import Scenario, SolveSettings


@functools.cache
def package_version() -> str:
    """Installed budgetopt version (or 0+unknown when run from a bare checkout); read once."""
    try:
        return metadata.version("budgetopt")
    except metadata.PackageNotFoundError:
        return "0+unknown"


def fingerprint(scenario: Scenario, run: SolveSettings | None = None) -> str:
    """Hash of everything that can change a plan's numbers: the normalised scenario with the
    solve settings in force (``run`` overrides the scenario's own), the package version and
    the versions of the solver libraries. Same fingerprint, same plan, byte for byte."""
    if run is not None:
        scenario = scenario.model_copy(update={"settings": run})
    canonical = json.dumps(scenario.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
    libraries = json.dumps(library_versions(), sort_keys=True)
    digest = hashlib.sha256(f"{package_version()}\n{libraries}\n{canonical}".encode())
    return digest.hexdigest()[:16]


def run_settings(run: SolveSettings) -> dict[str, Any]:
    """What a plan records of how it was solved: every setting that can change its numbers."""
    return {
        **run.model_dump(mode="json"),
        "highs": {
            k: v for k, v in highs_options(0.0, run.tolerance / 10).items() if k != "time_limit"
        },
        "blas_threads": 1,
        "libraries": library_versions(),
    }
