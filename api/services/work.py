"""A solve, score or what-if as data: what a route runs now or the job worker runs later."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any

from optimizer.schema.scenario import Scenario

WHATIF_KINDS = ("sweep", "tornado", "frontier")  # jobs whose result is kept on the job row


@dataclass
class Work:
    """Everything a solve needs, JSON-ready so a job can carry it through a restart."""

    kind: str  # plan | evaluation | sweep | tornado | frontier
    workspace: str
    created_by: str
    scenario: dict[str, Any]
    scenario_id: str | None = None
    version_id: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    allocation: dict[str, dict[str, float]] | None = None
    split: dict[str, float] | None = None  # an evaluation of {channel: CNY}, spread by spread
    spread: str = "optimal"
    optimum_plan_id: str | None = None
    compare_to_optimum: bool = True
    whatif: dict[str, Any] | None = None  # sweep/tornado: vary (and metric); frontier: budgets
    changes: list[dict[str, Any]] | None = None  # what-if changes ``scenario`` was made with
    # the validated scenario ``scenario`` was dumped from, when the work runs where it was
    # prepared (``scenario`` validates back to an equal model: a job validates it again)
    validated: Scenario | None = field(default=None, repr=False, compare=False)

    def to_json(self) -> dict[str, Any]:
        """The job's stored request."""
        data = asdict(replace(self, validated=None))
        del data["validated"]
        return data
