"""Exceptions of the engine: user mistakes, missing solvers, broken solvers."""

from __future__ import annotations

from dataclasses import dataclass


class OptimizerError(Exception):
    """Base of every error the engine raises on purpose."""


@dataclass(frozen=True)
class FieldProblem:
    """One thing wrong with the input: where (field path and line) and what."""

    path: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.path} (line {self.line})" if self.line else self.path
        return f"{where}: {self.message}"


class ScenarioError(OptimizerError):
    """The user's input is wrong; ``problems`` says where and why."""

    def __init__(
        self, source: str, problems: list[FieldProblem], subject: str = "scenario"
    ) -> None:
        self.source = source
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"{source}: invalid {subject}\n{lines}")


class RequestError(ScenarioError):
    """A what-if request is wrong in its own fields (``vary[1].path``, ``metric``, ``to_cny``),
    not in the scenario: the CLI names them by flag, the API by body field."""

    def __init__(self, problems: list[FieldProblem]) -> None:
        super().__init__("what-if", problems, subject="request")


class SolverUnavailableError(OptimizerError):
    """The requested solver is not installed or not known."""


class SolverFailedError(OptimizerError):
    """The solver itself broke (not an infeasible or unbounded model)."""
