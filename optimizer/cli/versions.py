"""``budgetopt --version``: budgetopt's version and those of the solver libraries it can use.

A plan's numbers depend on the solver build, so the versions name what each library provides
here (or that it is missing) rather than only what is installed.
"""

from __future__ import annotations

import subprocess
from importlib import metadata

from optimizer.planner import available_solvers
from optimizer.results.fingerprint import package_version


def versions() -> list[str]:
    """budgetopt's version, then those of the solver libraries it can use, one line each."""
    usable = set(available_solvers())

    def solvers(names: tuple[str, ...]) -> str:
        found = [n for n in names if n in usable]
        label = "solver" if len(found) == 1 else "solvers"
        return f"{label} {', '.join(found)}" if found else "not usable here"

    lines = [f"budgetopt {package_version()}"]
    highspy = _version("highspy")
    if highspy is None:
        lines.append("highspy not installed (solvers highs, highs-direct unavailable)")
    else:
        lines.append(
            f"highspy {highspy} (HiGHS {_highs_version()}; {solvers(('highs', 'highs-direct'))})"
        )
    pulp = _version("pulp")
    lines.append(
        "PuLP not installed (solvers highs, cbc unavailable)"
        if pulp is None
        else f"PuLP {pulp} ({solvers(('highs', 'cbc'))})"
    )
    lines.append(_cbc_line("cbc" in usable))
    scipy = _version("scipy")
    lines.append(f"scipy {scipy} (method nlp)" if scipy else "scipy not installed (no method nlp)")
    return lines


def _version(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def _highs_version() -> str:
    import highspy

    parts = ("HIGHS_VERSION_MAJOR", "HIGHS_VERSION_MINOR", "HIGHS_VERSION_PATCH")
    numbers = [getattr(highspy, name, None) for name in parts]
    return ".".join(map(str, numbers)) if None not in numbers else "version unknown"


def _cbc_line(usable: bool) -> str:
    """The CBC binary the cbc solver runs: PuLP's bundled one, else cbcbox's."""
    try:
        from optimizer.core.solvers.pulp_cbc import _command

        path = _command(msg=False).path
    except Exception:  # PuLP missing or broken: say so rather than fail --version
        path = None
    if not usable or not path:
        return "CBC not found (solver cbc unavailable)"
    source = "bundled with PuLP" if "cbcbox" not in str(path) else f"cbcbox {_version('cbcbox')}"
    return f"CBC {_cbc_version(str(path))} ({source}; solver cbc)"


def _cbc_version(path: str) -> str:
    """'2.10.3' from the binary's banner ('devel (git:...)' for cbcbox's builds)."""
    try:
        banner = subprocess.run(
            [path, "-quit"], capture_output=True, text=True, timeout=10, stdin=subprocess.DEVNULL
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return "version unknown"
    for line in banner.splitlines():
        if line.strip().startswith("Version:"):
            return line.split(":", 1)[1].strip()
        if line.startswith("CBC "):
            return line.split("—")[0].removeprefix("CBC ").strip()
    return "version unknown"
