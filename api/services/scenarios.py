"""Stored scenarios: named documents with immutable versions, scoped by workspace."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from api.auth import Principal
from api.db.models import ScenarioRecord, ScenarioTag, ScenarioVersion, new_id, utcnow
from api.problems import HttpProblem, not_found
from api.services.paging import one_page
from optimizer.results.fingerprint import fingerprint
from optimizer.schema.scenario import Scenario


def create_scenario(
    session: Session, who: Principal, scenario: Scenario, tags: list[str]
) -> ScenarioRecord:
    """A new scenario with version 1."""
    now = utcnow()
    record = ScenarioRecord(
        id=new_id("scn"),
        workspace=who.workspace,
        name=scenario.name,
        latest_version=1,
        archived=False,
        created_at=now,
        updated_at=now,
        tags=[ScenarioTag(tag=t) for t in sorted(set(tags))],
    )
    session.add(record)
    session.add(_version(record, 1, scenario, who))
    return record


def _version(
    record: ScenarioRecord, number: int, scenario: Scenario, who: Principal
) -> ScenarioVersion:
    return ScenarioVersion(
        id=new_id("ver"),
        scenario_id=record.id,
        version=number,
        body=scenario.model_dump(mode="json"),
        fingerprint=fingerprint(scenario),
        created_at=utcnow(),
        created_by=who.key_id,
    )


def add_version(
    session: Session, who: Principal, scenario_id: str, scenario: Scenario, tags: list[str] | None
) -> ScenarioRecord:
    """Append an immutable version; earlier versions and their plans stay as they were."""
    record = get_scenario(session, who, scenario_id, for_update=True)
    if record.archived:
        raise HttpProblem(
            409, "archived", f"scenario {scenario_id!r} is archived: it takes no versions"
        )
    record.latest_version += 1
    record.name = scenario.name
    record.updated_at = utcnow()
    if tags is not None:
        record.tags = [ScenarioTag(tag=t) for t in sorted(set(tags))]
    session.add(_version(record, record.latest_version, scenario, who))
    return record


def archive_scenario(session: Session, who: Principal, scenario_id: str) -> ScenarioRecord:
    """Hide a scenario from default listings and refuse new versions; plans are kept."""
    record = get_scenario(session, who, scenario_id, for_update=True)
    record.archived = True
    record.updated_at = utcnow()
    return record


def get_scenario(
    session: Session, who: Principal, scenario_id: str, *, for_update: bool = False
) -> ScenarioRecord:
    """The scenario if it is in the caller's workspace, else 404."""
    query = select(ScenarioRecord).where(
        ScenarioRecord.id == scenario_id, ScenarioRecord.workspace == who.workspace
    )
    record = session.scalar(query.with_for_update() if for_update else query)
    if record is None:
        raise not_found("scenario", scenario_id)
    return record


def get_version(session: Session, record: ScenarioRecord, number: int | None) -> ScenarioVersion:
    """A version of the scenario (the latest when ``number`` is None), else 404."""
    wanted = record.latest_version if number is None else number
    version = session.scalar(
        select(ScenarioVersion).where(
            ScenarioVersion.scenario_id == record.id, ScenarioVersion.version == wanted
        )
    )
    if version is None:
        raise HttpProblem(
            404,
            "not-found",
            f"scenario {record.id!r} has no version {wanted} (latest is {record.latest_version})",
        )
    return version


def load_version(
    factory: sessionmaker[Session], who: Principal, scenario_id: str, number: int | None
) -> tuple[ScenarioVersion, Scenario]:
    """A version of the caller's scenario and its validated document (404 when missing)."""
    with factory() as session:
        version = get_version(session, get_scenario(session, who, scenario_id), number)
    return version, Scenario.model_validate(version.body)


def list_versions(session: Session, record: ScenarioRecord) -> list[ScenarioVersion]:
    """Every version of a scenario, oldest first."""
    return list(
        session.scalars(
            select(ScenarioVersion)
            .where(ScenarioVersion.scenario_id == record.id)
            .order_by(ScenarioVersion.version)
        )
    )


def list_scenarios(
    session: Session,
    who: Principal,
    *,
    name: str | None,
    tag: str | None,
    archived: bool,
    page: int,
    per_page: int,
) -> tuple[list[ScenarioRecord], int]:
    """One page of the workspace's scenarios, newest first, and the total that match."""
    query = select(ScenarioRecord).where(
        ScenarioRecord.workspace == who.workspace, ScenarioRecord.archived == archived
    )
    if name:
        escaped = name.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(ScenarioRecord.name.ilike(f"%{escaped}%", escape="\\"))
    if tag:
        query = query.where(
            ScenarioRecord.id.in_(select(ScenarioTag.scenario_id).where(ScenarioTag.tag == tag))
        )
    return one_page(session, query, ScenarioRecord.created_at, ScenarioRecord.id, page, per_page)
