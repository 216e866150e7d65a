"""The engine's commands (plan, evaluate, validate, schema, batch, sweep, frontier, compare).

``main`` assembles the ``budgetopt`` app from ``plan`` (one scenario file), ``batch`` (many
files), ``whatif`` (sweep, frontier) and ``compare``; they share ``common`` (exit codes, options,
the steps that exit with a reason) and ``guard`` (stdout is for data); ``versions`` is --version.
"""
