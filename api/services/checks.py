"""What a scenario must pass before it is stored, solved or queued: numbers a solver can
take (``optimizer.planner.check_numbers``) and this service's size and time limits."""

from __future__ import annotations

from api.problems import invalid_input, limit_exceeded
from api.schemas import SolveOptions
from api.settings import ServiceSettings
from optimizer.errors import ScenarioError
from optimizer.planner import check_numbers
from optimizer.schema.channels import KolChannel
from optimizer.schema.scenario import Scenario

WHERE = "body.scenario"  # where a request's scenario is; a stored one is reported the same way


def check_scenario(
    scenario: Scenario, options: SolveOptions | None, settings: ServiceSettings
) -> None:
    """422 naming the field when a solver cannot take the scenario's numbers or when it is
    larger or slower than this service allows; run right after the scenario is validated."""
    check_solvable(scenario)
    check_limits(scenario, options, settings)


def check_solvable(scenario: Scenario, where: str = WHERE) -> None:
    """422 naming each field whose derived numbers (GMV per yuan, rule factors) no solver can
    take, as the request's validation errors do."""
    try:
        check_numbers(scenario, where)
    except ScenarioError as exc:
        raise invalid_input(exc, where) from None


def cells(scenario: Scenario) -> int:
    """Unit-periods of the scenario (a KOL channel has one unit per tier): the problem size."""
    units = sum(len(c.tiers) if isinstance(c, KolChannel) else 1 for c in scenario.channels)
    return units * len(scenario.periods)


def check_limits(
    scenario: Scenario, options: SolveOptions | None, settings: ServiceSettings
) -> None:
    """422 naming the limit when the scenario is larger or slower than this service allows."""
    if len(scenario.channels) > settings.max_channels:
        raise limit_exceeded(
            422, "max_channels", len(scenario.channels), settings.max_channels, f"{WHERE}.channels"
        )
    if len(scenario.periods) > settings.max_periods:
        raise limit_exceeded(
            422, "max_periods", len(scenario.periods), settings.max_periods, f"{WHERE}.periods"
        )
    seconds, path = scenario.settings.time_limit_s, f"{WHERE}.settings.time_limit_s"
    if options is not None and options.time_limit_s is not None:
        seconds, path = options.time_limit_s, "body.time_limit_s"
    if seconds > settings.max_solve_seconds:
        raise limit_exceeded(422, "max_solve_seconds", seconds, settings.max_solve_seconds, path)
