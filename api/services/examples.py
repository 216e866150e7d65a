"""Load the example scenario files into a workspace (once: existing names are skipped)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from api.auth import Principal
from api.db.engine import transaction
from api.db.models import ScenarioRecord
from api.services.scenarios import create_scenario
from optimizer.errors import ScenarioError
from optimizer.inputs.files import load_scenario


def load_examples(
    factory: sessionmaker[Session], workspace: str, folder: Path
) -> list[tuple[str, str]]:
    """Store every valid scenario file of ``folder`` not yet in the workspace; (name, id) each."""
    who = Principal(workspace, "admin", "examples")
    loaded = []
    for path in sorted(folder.glob("*.yaml")):
        try:
            scenario = load_scenario(path)
        except ScenarioError:
            continue  # not a scenario (or a broken example): the CLI's validate says why
        with transaction(factory) as session:
            exists = session.scalar(
                select(ScenarioRecord.id).where(
                    ScenarioRecord.workspace == workspace, ScenarioRecord.name == scenario.name
                )
            )
            if exists is None:
                record = create_scenario(session, who, scenario, ["example"])
                loaded.append((scenario.name, record.id))
    return loaded
