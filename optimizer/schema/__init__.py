"""Step 1 of the data flow: the scenario as a validated model, field paths and error messages.

``scenario`` is the top-level model, built from ``fields`` (number types and bounds),
``curves``, ``channels`` and ``rules``, with ``checks`` between its parts; ``messages`` turns
validation errors into problems a user can act on and ``paths`` names fields for sweeps. The
schema imports nothing of the engine: the numbers derived from a valid scenario are the core's
to check.
"""
