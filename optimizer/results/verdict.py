"""The one-line verdict on an evaluated split: how far it is from the best plan in the
objective's own metric, and every rule it breaks with its figure."""

from __future__ import annotations

from optimizer.results.plan import Plan, RuleCheck

WITHIN = 1e-4  # a gap below 0.01% of the optimum reads as "within 0.01%"
# objective kind -> (what it measures, unit, less of it, more of it)
METRICS = {
    "max_gmv": ("GMV", " CNY", "less", "more"),
    "max_profit": ("profit", " CNY", "less", "more"),
    "max_new_customers": ("new customers", "", "fewer", "more"),
    "min_spend": ("spend", " CNY", "less", "more"),
}
BROKEN = {">=": "<", "<=": ">", "==": "!="}


def verdict(plan: Plan) -> str:
    """One sentence: the split's gap to the best plan (if compared) and the rules it breaks."""
    return f"Your split {_standing(plan)} {_rules(plan)}."


def _standing(plan: Plan) -> str:
    """The objective's gap to the best plan (the objective alone when not compared), and the
    word that joins it to the rules: 'but' when a split beats the best plan by breaking one."""
    name, unit, less, more = METRICS.get(plan.objective_kind, METRICS["max_gmv"])
    spends = plan.objective_kind == "min_spend"
    comparison = plan.comparison
    if not comparison:
        value = f"{plan.objective_value or 0.0:,.0f}{unit}"
        amount = f"spends {value}" if spends else f"makes {value} of {name}"
        return f"{amount} (not compared with a best plan) and"
    relative = comparison["objective_gap_relative"]
    if relative < WITHIN:
        return "is within 0.01% of the best plan and"
    gap = comparison["objective_gap"]  # > 0: the split is worse than the best plan
    figure = f"{abs(gap):,.0f}{unit}"
    if abs(comparison.get("optimum_objective") or 0.0) >= 1.0:  # a share of nothing means nothing
        figure += f" ({_percent(relative)})"
    joint = "but" if gap < 0 and _broken(plan) else "and"
    if spends:
        return f"spends {figure} {'more' if gap > 0 else 'less'} than the best plan {joint}"
    return f"makes {figure} {less if gap > 0 else more} {name} than the best plan {joint}"


def _percent(relative: float) -> str:
    """2.1%, or 0.05% for a small gap."""
    percent = 100.0 * relative
    return f"{percent:.1f}%" if percent >= 0.1 else f"{percent:.2f}%"


def _broken(plan: Plan) -> list[RuleCheck]:
    return [rule for rule in plan.rules if not rule.holds]


def _rules(plan: Plan) -> str:
    """'keeps every rule', or 'breaks rule(s) a (figure), b (figure) and c (figure)'."""
    broken = _broken(plan)
    if not broken:
        return "keeps every rule"
    named = [f"{rule.name} ({figure(rule)})" for rule in broken]
    listed = named[0] if len(named) == 1 else ", ".join(named[:-1]) + " and " + named[-1]
    return f"breaks rule{'s' if len(named) > 1 else ''} {listed}"


def figure(rule: RuleCheck) -> str:
    """The measured value against the limit, in the rule's unit: 'ROAS 2.71 < 3.00'."""
    sign = BROKEN.get(rule.sense, rule.sense)
    if rule.value is None:
        return f"nothing measured {sign} {rule.limit:g}"
    if rule.kind == "ramp_limit":
        return f"{rule.description}: {rule.value - rule.limit:,.0f} CNY over"
    if rule.kind == "roas_floor":
        value, limit = _apart(rule, "{:.%df}", 2)
        return f"ROAS {value} {sign} {limit}"
    if rule.kind == "cac_ceiling":
        value, limit = _apart(rule, "{:,.%df}", 2)
        return f"CAC {value} {sign} {limit} CNY"
    if rule.kind == "gmv_share" or rule.name.endswith(".rate"):
        what = "GMV share" if rule.kind == "gmv_share" else "commission rate"
        value, limit = _apart(rule, "{:.%d%%}", 1)
        return f"{what} {value} {sign} {limit}"
    what = {"gmv_target": "GMV", "commission_cap": "commission"}.get(rule.kind, "spend")
    value, limit = _apart(rule, "{:,.%df}", 0)
    return f"{what} {value} {sign} {limit} CNY"


def _apart(rule: RuleCheck, pattern: str, decimals: int) -> tuple[str, str]:
    """The rule's value and limit as text, with enough decimals to tell them apart: a rule
    broken by a hair must not read '25.0% > 25.0%'."""
    assert rule.value is not None
    for places in range(decimals, decimals + 6):
        shown = (pattern % places).format(rule.value), (pattern % places).format(rule.limit)
        if shown[0] != shown[1]:
            break
    return shown
