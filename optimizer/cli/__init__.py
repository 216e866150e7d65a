"""The engine's commands (plan, evaluate, validate, batch, sweep, frontier, compare)."""
