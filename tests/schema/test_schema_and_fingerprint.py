"""The committed JSON Schema is current, and fingerprints identify a scenario exactly."""

from __future__ import annotations

from pathlib import Path

from helpers import linear, scenario

from optimizer.cli.plan import schema_text
from optimizer.results.fingerprint import fingerprint

SCHEMA_FILE = Path(__file__).parents[2] / "scenarios" / "scenario.schema.json"


def test_committed_schema_matches_the_models() -> None:
    assert SCHEMA_FILE.read_text(encoding="utf-8") == schema_text(), (
        "scenarios/scenario.schema.json is stale: run `make schema` and commit it"
    )


def test_schema_documents_the_spend_basis_and_commission_accounting() -> None:
    text = schema_text()
    assert "Spend that ROAS and CAC divide by" in text
    assert "Whether KOL commission is paid out of this budget" in text


def test_same_scenario_same_fingerprint_and_any_change_changes_it() -> None:
    a = scenario([linear("search", 6, cap=60)], budget=100)
    again = scenario([linear("search", 6, cap=60)], budget=100)
    other = scenario([linear("search", 6, cap=61)], budget=100)
    assert fingerprint(a) == fingerprint(again)
    assert fingerprint(a) != fingerprint(other)
    assert len(fingerprint(a)) == 16
