"""What-if changes: paths selecting many fields, set / scale / shift, linked changes validated
once, and errors naming changes[i]."""

from __future__ import annotations

from typing import Any

import pytest

from optimizer.errors import RequestError
from optimizer.planner import check_numbers, plan
from optimizer.schema.changes import Change, apply_changes, parse_change
from optimizer.schema.paths import PathError, get_value, get_values
from tests.helpers import kol, linear, scenario, tier


def paid(cid: str, cpm: float, **fields: Any) -> dict[str, Any]:
    """A paid channel with CPM ``cpm``."""
    return {
        "id": cid,
        "kind": "paid",
        "cpm": {"base_cny": cpm},
        "ctr": 0.01,
        "cvr": 0.02,
        "aov_cny": 100.0,
        "saturation": {"type": "linear"},
        **fields,
    }


def three_paid():
    return scenario(
        [paid("live", 30.0), paid("video", 24.0), paid("search", 60.0)], 1e6, periods=["Q1", "Q4"]
    )


def mixed():
    """A paid channel, a KOL channel of two tiers and a curve channel with a CPM index."""
    return scenario(
        [
            paid("live", 30.0),
            kol([tier("head", 0.30, 6.0, cap=2e5), tier("mid", 0.20, 5.0, cap=3e5)]),
            linear("launch", 4.0, cap=5e5, cpm_index=[1.0, 1.2]),
        ],
        1e6,
        periods=["Q1", "Q4"],
        budget_fields={"commission_in_budget": True},
        rules=[{"id": "floor", "kind": "roas_floor", "min_roas": 2.0}],
    )


def test_every_cpm_times_1_42():
    changed = apply_changes(three_paid(), [Change("channels[*].cpm.base_cny", "scale", 1.42)])
    assert [c.cpm.base_cny for c in changed.channels] == pytest.approx([42.6, 34.08, 85.2])


def test_several_ids_and_periods_are_selected():
    s = mixed()
    values = get_values(s, "channels[kol].tiers[head,mid].commission_rate")
    assert values == {
        "channels[kol].tiers[head].commission_rate": 0.30,
        "channels[kol].tiers[mid].commission_rate": 0.20,
    }
    changed = apply_changes(s, [Change("channels[launch].cpm_index[Q4]", "scale", 1.5)])
    assert changed.channels[2].cpm_index == pytest.approx([1.0, 1.8])
    # a per-period list scaled as a whole: every element
    whole = apply_changes(s, [Change("channels[launch].cpm_index", "scale", 2.0)])
    assert whole.channels[2].cpm_index == pytest.approx([2.0, 2.4])
    # one number for every period stays one number when scaled as a whole
    assert apply_changes(s, [Change("seasonality", "shift", 0.5)]).seasonality == 1.5
    spread = apply_changes(s, [Change("seasonality[*]", "set", 2.0)])
    assert spread.seasonality == [2.0, 2.0]


def test_set_shift_and_scale_by_hand():
    s = mixed()
    changed = apply_changes(
        s,
        [
            Change("budget.total_cny", "scale", 0.9),
            Change("channels[kol].tiers[*].commission_rate", "shift", 0.05),
            Change("rules[floor].min_roas", "shift", -0.5),
            Change("objective.kind", "set", "max_new_customers"),
        ],
    )
    assert changed.budget.total_cny == pytest.approx(900_000)
    assert [t.commission_rate for t in changed.channels[1].tiers] == pytest.approx([0.35, 0.25])
    assert changed.rules[0].min_roas == pytest.approx(1.5)
    assert changed.objective.kind == "max_new_customers"
    assert s.budget.total_cny == 1e6  # the scenario given is not modified
    assert apply_changes(s, []) is s


def test_whole_number_fields_are_rounded():
    s = scenario(
        [
            {
                "id": "members",
                "kind": "private_domain",
                "members": 1000,
                "cost_per_reach_cny": 0.5,
                "repurchase_rate": 0.4,
                "aov_cny": 187.0,
            }
        ],
        1e5,
    )
    assert (
        apply_changes(s, [Change("channels[0].members", "scale", 1.1)]).channels[0].members == 1100
    )


def test_linked_changes_plan_as_the_hand_edited_scenario():
    changes = [
        Change("budget.total_cny", "scale", 0.9),
        Change("channels[kol].tiers[head].commission_rate", "shift", 0.05),
    ]
    by_changes = plan(apply_changes(mixed(), changes, check_numbers))
    data = mixed().model_dump(mode="json")
    data["budget"]["total_cny"] = 900_000.0
    data["channels"][1]["tiers"][0]["commission_rate"] = 0.35
    by_hand = plan(type(mixed()).model_validate(data))
    assert by_changes.fingerprint == by_hand.fingerprint != plan(mixed()).fingerprint
    assert by_changes.total is not None and by_hand.total is not None
    assert round(by_changes.total.gmv_cny, 2) == round(by_hand.total.gmv_cny, 2)
    assert by_changes.total.spend_cny + by_changes.total.commission_cny <= 900_000 + 1e-3


def test_a_channel_is_switched_off_by_capping_its_spend_at_zero():
    s = scenario([linear("a", 5.0), linear("b", 3.0)], 1e6)
    assert plan(s).spend["a"]["Y"] == pytest.approx(1e6)
    off = plan(apply_changes(s, [Change("channels[a].max_spend_cny", "set", 0)]))
    assert off.spend["a"]["Y"] == pytest.approx(0.0, abs=1e-6)
    assert off.total is not None and off.total.gmv_cny == pytest.approx(3e6, rel=1e-6)


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        (Change("channels[tv].ctr", "scale", 2), "changes[0].path", "known: live, kol, launch"),
        (Change("fixed_costs[*].amount_cny", "scale", 2), "changes[0].path", "selects nothing"),
        (Change("name", "scale", 2), "changes[0].path", "cannot scale name: it is text"),
        (Change("budget.total_cny", "double", 2), "changes[0].op", "unknown op 'double'"),
        (Change("budget.total_cny", "scale", "x"), "changes[0].value", "needs a finite number"),
        (
            Change("channels[*].cpm.base_cny", "scale", 1.42),
            "changes[0].path",
            "2 of the 3 items selected have no 'cpm': channels[kol] (kol), channels[launch] "
            "(curve); select only items that have it (channels[live])",
        ),
        (
            Change("channels[live].max_spend_cny", "scale", 2),
            "changes[0].path",
            "cannot scale channels[live].max_spend_cny: it is not set",
        ),
        (Change("budget.total_cny", "scale", -1), "changes[0].value", "greater than 0"),
    ],
)
def test_refused_changes_name_the_change(change, field, words):
    with pytest.raises(RequestError) as caught:
        apply_changes(mixed(), [Change("budget.total_cny", "scale", 1.0), change][1:])
    (problem,) = caught.value.problems
    assert problem.path == field
    assert words in problem.message


def test_changes_that_only_fail_together_name_the_changes():
    s = mixed()
    fine = [Change("channels[live].min_spend_cny", "set", 100.0)]
    assert apply_changes(s, fine).channels[0].min_spend_cny == 100.0
    with pytest.raises(RequestError) as caught:
        apply_changes(s, [*fine, Change("channels[live].max_spend_cny", "set", 50.0)])
    (problem,) = caught.value.problems  # the schema reports it at min_spend_cny
    assert problem.path == "changes[0].value" and "exceeds max_spend_cny 50" in problem.message
    # reported at a field no change wrote: the changes together
    with pytest.raises(RequestError) as caught:
        apply_changes(s, [Change("budget.contingency_cny", "set", 2e6)])
    (problem,) = caught.value.problems
    assert problem.path == "changes" and "the changes together" in problem.message


def test_get_value_of_many_fields_says_so():
    with pytest.raises(PathError, match="selects 3 fields"):
        get_value(three_paid(), "channels[*].cpm.base_cny")


@pytest.mark.parametrize(
    ("text", "change"),
    [
        ("channels[*].cpm.base_cny*=1.42", Change("channels[*].cpm.base_cny", "scale", 1.42)),
        ("budget.total_cny=120e6", Change("budget.total_cny", "set", 120e6)),
        ("rules[floor].min_roas-=0.5", Change("rules[floor].min_roas", "shift", -0.5)),
        (
            "channels[kol].tiers[*].commission_rate+=0.05",
            Change("channels[kol].tiers[*].commission_rate", "shift", 0.05),
        ),
        ("objective.kind=max_profit", Change("objective.kind", "set", "max_profit")),
    ],
)
def test_cli_forms_parse(text, change):
    assert parse_change(text) == change


@pytest.mark.parametrize("text", ["=1", "budget.total_cny", "a*=x", "a=1,2"])
def test_unreadable_forms_say_why(text):
    with pytest.raises(ValueError, match=r"expected|needs a number"):
        parse_change(text)
